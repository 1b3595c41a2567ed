"""The `coverage-gaps` report: a week-ending Sunday's coverage gaps, critical first, with their
counts, in one statement.

The database picks, counts and orders the gaps with the rules' SQL (rules_sql.py); the rows shown
are then built by the pure rule (gaps.gap_of), and a row the two disagree on is raised as a bug.
Which Sunday it shows is reports.computed's choice (spec §7), as for hiring-triggers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.reports import computed
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.territory import report_reads as reads
from opsmetrics.territory.figures import FIGURE_COLUMNS, figures_from
from opsmetrics.territory.gaps import gap_of, sort_gaps
from opsmetrics.territory.rules_sql import (
    GAP_SEVERITY_SQL,
    GAP_SQL,
    GAP_VOLUME_SQL,
    SEVERITY_RANK_SQL,
)

GAP_COLUMNS = [
    "severity",
    "region",
    "postcode_sector",
    "rejection_rate",
    "rejected_bookings",
    "total_bookings",
    "minimum_volume_met",
    "weeks_persisting",
    "recommended_action",
    "note",
    "territory_id",
]


def coverage_gaps(conn: Connection, params: ReportParams) -> Report:
    """Sorted coverage gaps; under-volume ones only with include_low_volume (with a note)."""
    day, freshness = computed.one_date(conn, "coverage-gaps", params, params.date)
    columns = reads.with_org(GAP_COLUMNS, params)
    summary: dict[str, Any] = {"critical": 0, "warning": 0, "total": 0, "low_volume": 0}
    summary["low_volume_included"] = params.include_low_volume
    sql_params: dict[str, Any] = {
        "day": day,
        "shown": reads.shown(params),
        "low": params.include_low_volume,
    }
    where = reads.filters(params, sql_params)
    sql = f"""
    WITH found AS (
        SELECT {FIGURE_COLUMNS}, {GAP_SEVERITY_SQL} AS severity, {GAP_VOLUME_SQL} AS volume_met
        FROM territory_metrics m JOIN territories t ON t.id = m.territory_id
        WHERE m.metric_date = :day {where} AND {GAP_SQL}
    )
    SELECT
        (SELECT json_build_object(
            'critical', count(*) FILTER (WHERE severity = 'critical' AND (volume_met OR :low)),
            'warning', count(*) FILTER (WHERE severity = 'warning' AND (volume_met OR :low)),
            'low_volume', count(*) FILTER (WHERE NOT volume_met))
         FROM found)::text AS counts,
        (SELECT coalesce(json_agg(f), '[]') FROM (
            SELECT * FROM found WHERE volume_met OR :low
            ORDER BY {SEVERITY_RANK_SQL.format("severity")}, rejection_rate DESC, {reads.BY_SECTOR}
            LIMIT :shown) f)::text AS shown
    """
    found = conn.execute(text(sql), sql_params).one()
    counts = reads.decode(found.counts)
    summary.update(counts)
    summary["total"] = counts["critical"] + counts["warning"]
    gaps = []
    for row in reads.decode(found.shown):
        gap = gap_of(figures_from(row))
        if gap is None or gap.severity != row["severity"]:
            raise reads.RulesDisagree(f"coverage gap of {row['territory_id']}: {row}")
        gaps.append(gap)
    gaps = sort_gaps(gaps)
    rows = [g.to_dict() for g in gaps]
    reads.name_orgs(conn, rows, params)
    return Report(
        "coverage-gaps",
        day,
        columns,
        rows,
        summary,
        {"truncated": len(gaps) < summary["total"]},
        freshness,
    )
