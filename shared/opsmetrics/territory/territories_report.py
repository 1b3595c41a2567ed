"""The `territories` report: the territory summary over every matching territory and one page
of territory rows, in one statement.

Which date it shows is reports.computed's choice (spec §7): without a date, the latest date
daily-territory-metrics computed for the organization (for every organization when none is
given); a date it never computed is NotFound.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.errors import BadRequest
from opsmetrics.reports import computed
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.territory import report_reads as reads
from opsmetrics.territory.cursor import Cursor
from opsmetrics.territory.figures import FIGURE_COLUMNS
from opsmetrics.territory.summary import TOTALS_SQL, TerritoryTotals, summarize_totals

# A territories report row, built in SQL from `base` (FIGURE_COLUMNS): report key -> column.
_TERRITORY_ROW = {
    "territory_id": "territory_id",
    "postcode_sector": "postcode_sector",
    "region": "region",
    "total_bookings": "total_bookings",
    "confirmed_bookings": "confirmed_bookings",
    "rejected_bookings": "rejected_bookings",
    "rejection_rate": "rejection_rate",
    "fulfillment_rate": "fulfillment_rate",
    "primary_medic_utilization": "utilization",
    "hiring_trigger_weeks": "hiring_trigger_weeks",
    "coverage_gap_weeks": "coverage_gap_weeks",
    "primary_assigned": "has_primary_medic",
    "secondary_assigned": "has_secondary_medic",
}
TERRITORY_COLUMNS = list(_TERRITORY_ROW)

# The columns of TerritoryFigures (figures.FIGURE_COLUMNS), from territory_metrics m and
# territories t.
_ROW_SQL = f"""
    SELECT {FIGURE_COLUMNS}
    FROM territory_metrics m JOIN territories t ON t.id = m.territory_id
    WHERE m.metric_date = :day"""


def _territory_row_sql(several_orgs: bool) -> str:
    keys = {**_TERRITORY_ROW, "org_id": "org_id"} if several_orgs else _TERRITORY_ROW
    built = ", ".join(f"'{k}', p.{c}" for k, c in keys.items())
    if several_orgs:
        built += ", 'organization', (SELECT o.name FROM organizations o WHERE o.id = p.org_id)"
    return f"json_build_object({built})"


def territories(conn: Connection, params: ReportParams) -> Report:
    """The territory summary (over every matching territory) and one page of territory rows."""
    cursor = Cursor.decode(params.cursor) if params.cursor else None
    if cursor and params.date and cursor.day != params.date:
        raise BadRequest(f"cursor belongs to {cursor.day}, not {params.date}")
    asked = params.date or (cursor.day if cursor else None)
    day, freshness = computed.one_date(conn, "territories", params, asked)
    columns = reads.with_org(TERRITORY_COLUMNS, params)
    sql_params: dict[str, Any] = {"day": day}
    where = reads.filters(params, sql_params)
    after = ""
    if cursor:
        after = (
            'WHERE (b.postcode_sector COLLATE "C", b.territory_id)'
            ' > (CAST(:after_sector AS text) COLLATE "C", CAST(:after_id AS uuid))'
        )
        sql_params.update(after_sector=cursor.postcode_sector, after_id=cursor.territory_id)
    limit = ""
    if params.limit is not None:
        limit = "LIMIT :fetch"
        sql_params["fetch"] = params.limit + 1  # one more tells whether a next page exists
    sql = f"""
    WITH base AS ({_ROW_SQL} {where})
    SELECT
        (SELECT {TOTALS_SQL} FROM base)::text AS totals,
        (SELECT coalesce(json_agg({_territory_row_sql(params.org_id is None)}
                                  ORDER BY {reads.BY_SECTOR}), '[]')
         FROM (SELECT b.* FROM base b {after} ORDER BY {reads.BY_SECTOR} {limit}) p)::text AS page
    """
    found = conn.execute(text(sql), sql_params).one()
    totals = TerritoryTotals(**reads.decode(found.totals))
    page: list[dict[str, Any]] = reads.decode(found.page)
    next_cursor = None
    if params.limit is not None and len(page) > params.limit:
        page = page[: params.limit]
        last = page[-1]
        next_cursor = Cursor(day, last["postcode_sector"], uuid.UUID(last["territory_id"])).encode()
    return Report(
        "territories",
        day,
        columns,
        page,
        summarize_totals(totals).to_dict(),
        {"next_cursor": next_cursor},
        freshness,
    )
