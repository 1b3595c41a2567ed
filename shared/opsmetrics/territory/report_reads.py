"""What the three territory reports (territories_report.py, triggers_report.py, gaps_report.py)
read alike: one date's rows filtered by organization and region, rows of several organizations
named, and the JSON texts their statements return.

Each report is one statement over one date's rows (the (org_id, metric_date) index) that returns
its headline counts and the rows shown as two JSON texts: pg8000 decodes one JSON text far faster
than hundreds of rows, and parse_float=Decimal keeps every rate exact.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.reports.model import ReportParams
from opsmetrics.territory import limits

# Orders are spelled with COLLATE "C": the same in every database and as Python sorts strings.
BY_SECTOR = 'postcode_sector COLLATE "C", territory_id'


class RulesDisagree(RuntimeError):
    """The SQL twin of a rule picked a row the pure rule does not: a bug, never bad input."""


def with_org(columns: list[str], params: ReportParams) -> list[str]:
    """Rows of several organizations say whose they are: the id, and the name for tables
    (which leave ids out) so that one sector in two organizations does not look doubled."""
    return columns if params.org_id is not None else [*columns, "org_id", "organization"]


def name_orgs(conn: Connection, rows: list[dict[str, Any]], params: ReportParams) -> None:
    """Add each row's organization name (rows of every organization only)."""
    if params.org_id is not None or not rows:
        return
    found = conn.execute(text("SELECT id::text, name FROM organizations")).all()
    names: dict[str, str] = {str(r[0]): str(r[1]) for r in found}
    for row in rows:
        row["organization"] = names.get(str(row["org_id"]))


def filters(params: ReportParams, sql_params: dict[str, Any]) -> str:
    """The organization and region conditions on territory_metrics m and territories t."""
    sql = ""
    if params.org_id is not None:
        sql += " AND m.org_id = :org_id"
        sql_params["org_id"] = params.org_id
    if params.region:
        sql += " AND lower(t.region) = lower(:region)"
        sql_params["region"] = params.region.strip()
    return sql


def decode(value: str | None) -> Any:
    """A JSON text of the statement, every number with a fraction as an exact Decimal."""
    return json.loads(value, parse_float=Decimal) if value is not None else None


def shown(params: ReportParams) -> int:
    """How many rows a weekly report lists (limits.DEFAULT_WEEKLY_ROWS without a limit)."""
    return params.limit if params.limit is not None else limits.DEFAULT_WEEKLY_ROWS
