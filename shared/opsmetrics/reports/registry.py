"""Report names and where each is built; modules are imported only when asked for."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from opsmetrics.errors import NotFound
from opsmetrics.plugins import load_attr
from opsmetrics.reports.model import Report, ReportParams

ReportBuilder = Callable[[Connection, ReportParams], Report]

REPORTS: dict[str, str] = {
    "territories": "opsmetrics.territory.territories_report:territories",
    "hiring-triggers": "opsmetrics.territory.triggers_report:hiring_triggers",
    "coverage-gaps": "opsmetrics.territory.gaps_report:coverage_gaps",
    "trends": "opsmetrics.trends.trends_report:trends",
}

# The job whose output a report reads: what a refresh recomputes.
REPORT_JOBS: dict[str, str] = {
    "territories": "daily-territory-metrics",
    "hiring-triggers": "weekly-hiring-triggers",
    "coverage-gaps": "weekly-hiring-triggers",
    "trends": "daily-trend-aggregation",
}


def builder(name: str) -> ReportBuilder:
    entry = REPORTS.get(name)
    if entry is None:
        raise NotFound(f"unknown report {name!r}; known reports: {', '.join(REPORTS)}")
    fn: ReportBuilder = load_attr(entry)
    return fn


def build(conn: Connection, name: str, params: ReportParams) -> Report:
    return builder(name)(conn, params)
