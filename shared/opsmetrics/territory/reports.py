"""The territories, hiring-triggers and coverage-gaps reports: one indexed read each + pure rules.

Which date each shows is reports.computed's choice (spec §7): without a date, the latest its
job (daily-territory-metrics; weekly-hiring-triggers for the two weekly reports) computed for
the organization (for every organization when none is given); a date it never computed is
NotFound. The weekly reports refuse a date that is not a Sunday, as the weekly job does.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.errors import BadRequest
from opsmetrics.reports import computed
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.territory.cursor import Cursor
from opsmetrics.territory.figures import FIGURE_COLUMNS, figures_from
from opsmetrics.territory.gaps import coverage_gap, sort_gaps
from opsmetrics.territory.rules import TerritoryTotals, summarize_totals
from opsmetrics.territory.rules_sql import (
    GAP_CRITICAL_SQL,
    GAP_SQL,
    GAP_VOLUME_SQL,
    SEVERITY_RANK_SQL,
    TRIGGER_EXCESS_SQL,
    TRIGGER_SEVERITY_SQL,
    TRIGGER_WEEKS_SQL,
)
from opsmetrics.territory.triggers import (
    RULES,
    TRIGGER_TYPES,
    HiringTrigger,
    count_by_severity,
    group_by_region,
)

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
TRIGGER_COLUMNS = [
    "severity",
    "trigger_type",
    "region",
    "postcode_sector",
    "metric_value",
    "threshold",
    "weeks_active",
    "message",
    "territory_id",
]
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


def _with_org(columns: list[str], params: ReportParams) -> list[str]:
    """Rows of several organizations say whose they are: the id, and the name for tables
    (which leave ids out) so that one sector in two organizations does not look doubled."""
    return columns if params.org_id is not None else [*columns, "org_id", "organization"]


def _name_orgs(conn: Connection, rows: list[dict[str, Any]], params: ReportParams) -> None:
    """Add each row's organization name (rows of every organization only)."""
    if params.org_id is not None or not rows:
        return
    found = conn.execute(text("SELECT id::text, name FROM organizations")).all()
    names: dict[str, str] = {str(r[0]): str(r[1]) for r in found}
    for row in rows:
        row["organization"] = names.get(str(row["org_id"]))


# --- reading ------------------------------------------------------------------------------------
# Each report is one statement over one date's rows (the (org_id, metric_date) index) that returns
# its headline counts and the rows shown as two JSON texts: pg8000 decodes one JSON text far faster
# than hundreds of rows, and parse_float=Decimal keeps every rate exact.

# The columns of TerritoryFigures (figures.FIGURE_COLUMNS), from territory_metrics m and
# territories t.
_ROW_SQL = f"""
    SELECT {FIGURE_COLUMNS}
    FROM territory_metrics m JOIN territories t ON t.id = m.territory_id
    WHERE m.metric_date = :day"""
# Orders are spelled with COLLATE "C": the same in every database and as Python sorts strings.
_BY_SECTOR = 'postcode_sector COLLATE "C", territory_id'


def _filters(params: ReportParams, sql_params: dict[str, Any]) -> str:
    sql = ""
    if params.org_id is not None:
        sql += " AND m.org_id = :org_id"
        sql_params["org_id"] = params.org_id
    if params.region:
        sql += " AND lower(t.region) = lower(:region)"
        sql_params["region"] = params.region.strip()
    return sql


def _json(value: str | None) -> Any:
    return json.loads(value, parse_float=Decimal) if value is not None else None


def _territory_row_sql(with_org: bool) -> str:
    keys = {**_TERRITORY_ROW, "org_id": "org_id"} if with_org else _TERRITORY_ROW
    built = ", ".join(f"'{k}', p.{c}" for k, c in keys.items())
    if with_org:
        built += ", 'organization', (SELECT o.name FROM organizations o WHERE o.id = p.org_id)"
    return f"json_build_object({built})"


# --- territories -------------------------------------------------------------------------------


def territories(conn: Connection, params: ReportParams) -> Report:
    """The territory summary (over every matching territory) and one page of territory rows."""
    cursor = Cursor.decode(params.cursor) if params.cursor else None
    if cursor and params.date and cursor.day != params.date:
        raise BadRequest(f"cursor belongs to {cursor.day}, not {params.date}")
    asked = params.date or (cursor.day if cursor else None)
    day, freshness = computed.one_date(conn, "territories", params, asked)
    columns = _with_org(TERRITORY_COLUMNS, params)
    sql_params: dict[str, Any] = {"day": day}
    where = _filters(params, sql_params)
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
        (SELECT json_build_object(
            'territories', count(*),
            'assigned', count(*) FILTER (WHERE has_primary_medic),
            'utilization_sum', coalesce(sum(utilization), 0),
            'total_bookings', coalesce(sum(total_bookings), 0),
            'with_bookings', count(*) FILTER (WHERE total_bookings > 0
                                              AND rejection_rate IS NOT NULL),
            'rejection_rate_sum',
                coalesce(sum(rejection_rate) FILTER (WHERE total_bookings > 0), 0))
         FROM base)::text AS totals,
        (SELECT coalesce(json_agg({_territory_row_sql(params.org_id is None)}
                                  ORDER BY {_BY_SECTOR}), '[]')
         FROM (SELECT b.* FROM base b {after} ORDER BY {_BY_SECTOR} {limit}) p)::text AS page
    """
    found = conn.execute(text(sql), sql_params).one()
    totals = TerritoryTotals(**_json(found.totals))
    page: list[dict[str, Any]] = _json(found.page)
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


# --- hiring triggers and coverage gaps ---------------------------------------------------------

# When no limit is asked for, the weekly reports list this many rows, most urgent first; their
# counts always cover every row. (A national organization can have 10,000+ triggers.)
DEFAULT_WEEKLY_ROWS = 100


def _shown(params: ReportParams) -> int:
    return params.limit if params.limit is not None else DEFAULT_WEEKLY_ROWS


class RulesDisagree(RuntimeError):
    """The SQL twin of a rule picked a row the pure rule does not: a bug, never bad input."""


# FIGURE_COLUMNS without those of territories t (the trigger page takes them from `base`).
_PAGE_COLUMNS = """
    m.territory_id, m.org_id, m.postcode_sector, m.total_bookings, m.confirmed_bookings,
    m.rejected_bookings, m.rejection_rate, m.fulfillment_rate,
    m.primary_medic_utilization AS utilization, m.hiring_trigger_weeks, m.coverage_gap_weeks
"""


def _triggers_sql(where: str) -> str:
    """Counts per region and type over every trigger, and the first `shown` triggers in urgency
    order (triggers.urgency: across regions) with their territory rows."""
    kinds = TRIGGER_TYPES
    severities = ", ".join(f"{TRIGGER_SEVERITY_SQL[k]} AS s{i}" for i, k in enumerate(kinds))
    # region, then per type (in TRIGGER_TYPES order) the count of critical and of warning rows
    counts = ", ".join(
        f"count(*) FILTER (WHERE s{i} = '{severity}') AS {severity}_{i}"
        for i in range(len(kinds))
        for severity in ("critical", "warning")
    )
    rank = SEVERITY_RANK_SQL.format
    # `m`: base's columns keep territory_metrics' names, so the rules' SQL twins apply to them
    unpivot = " UNION ALL ".join(
        f"SELECT m.*, {i} AS type_rank, s{i} AS severity, {rank(f's{i}')} AS severity_rank,"
        f" {TRIGGER_WEEKS_SQL[kind]} AS weeks, {TRIGGER_EXCESS_SQL[kind].format(f's{i}')}"
        f" AS excess FROM base m WHERE s{i} IS NOT NULL"
        for i, kind in enumerate(kinds)
    )
    return f"""
    WITH base AS MATERIALIZED (
        SELECT m.territory_id, t.region, m.postcode_sector,
               t.primary_medic_id IS NOT NULL AS has_primary_medic,
               t.secondary_medic_id IS NOT NULL AS has_secondary_medic,
               m.primary_medic_utilization, m.fulfillment_rate, m.rejection_rate,
               m.hiring_trigger_weeks, m.coverage_gap_weeks, {severities}
        FROM territory_metrics m JOIN territories t ON t.id = m.territory_id
        WHERE m.metric_date = :day {where}
    ),
    found AS ({unpivot})
    SELECT
        (SELECT coalesce(json_agg(c), '[]')
         FROM (SELECT region, {counts} FROM base GROUP BY region) c)::text AS counts,
        (SELECT coalesce(json_agg(r ORDER BY r.shown_order), '[]') FROM (
            SELECT {_PAGE_COLUMNS}, p.region, p.has_primary_medic, p.has_secondary_medic,
                   p.type_rank, p.severity, p.shown_order
            FROM (SELECT f.*, row_number() OVER () AS shown_order FROM (
                      SELECT * FROM found
                      ORDER BY severity_rank, weeks DESC, excess DESC, region COLLATE "C",
                               postcode_sector COLLATE "C", type_rank, territory_id
                      LIMIT :shown) f) p
            JOIN territory_metrics m
              ON m.territory_id = p.territory_id AND m.metric_date = :day) r)::text AS shown
    """


def hiring_triggers(conn: Connection, params: ReportParams) -> Report:
    """Counts by severity (all triggers), the most urgent triggers, and both by region."""
    day, freshness = computed.one_date(conn, "hiring-triggers", params, params.date)
    columns = _with_org(TRIGGER_COLUMNS, params)
    sql_params: dict[str, Any] = {"day": day, "shown": _shown(params)}
    found = conn.execute(text(_triggers_sql(_filters(params, sql_params))), sql_params).one()

    per_region: dict[str, dict[str, int]] = {}
    summary = count_by_severity([])
    for entry in _json(found.counts):
        region, *pairs = entry.values()
        counts = count_by_severity([])
        for critical, warning in zip(pairs[::2], pairs[1::2], strict=True):
            counts["critical"] += critical
            counts["warning"] += warning
        counts["total"] = counts["critical"] + counts["warning"] + counts["info"]
        if counts["total"]:
            per_region[region] = counts
            for key, n in counts.items():
                summary[key] += n

    shown: list[HiringTrigger] = []
    for row in _json(found.shown):
        trigger = RULES[TRIGGER_TYPES[row["type_rank"]]](figures_from(row))
        if trigger is None or trigger.severity != row["severity"]:
            raise RulesDisagree(f"{TRIGGER_TYPES[row['type_rank']]} of {row}")
        shown.append(trigger)
    rows = [t.to_dict() for t in shown]
    _name_orgs(conn, rows, params)
    as_row = {id(t): r for t, r in zip(shown, rows, strict=True)}
    by_region = [
        {"region": g.region, **g.counts, "triggers": [as_row[id(t)] for t in g.triggers]}
        for g in group_by_region(shown, per_region)
    ]
    return Report(
        "hiring-triggers",
        day,
        columns,
        rows,
        summary,
        {"by_region": by_region, "truncated": len(shown) < summary["total"]},
        freshness,
    )


def coverage_gaps(conn: Connection, params: ReportParams) -> Report:
    """Sorted coverage gaps; under-volume ones only with include_low_volume (with a note)."""
    day, freshness = computed.one_date(conn, "coverage-gaps", params, params.date)
    columns = _with_org(GAP_COLUMNS, params)
    summary: dict[str, Any] = {"critical": 0, "warning": 0, "total": 0, "low_volume": 0}
    summary["low_volume_included"] = params.include_low_volume
    sql_params: dict[str, Any] = {
        "day": day,
        "shown": _shown(params),
        "low": params.include_low_volume,
    }
    where = _filters(params, sql_params)
    sql = f"""
    WITH found AS (
        SELECT {FIGURE_COLUMNS}, {GAP_CRITICAL_SQL} AS critical, {GAP_VOLUME_SQL} AS volume_met
        FROM territory_metrics m JOIN territories t ON t.id = m.territory_id
        WHERE m.metric_date = :day {where} AND {GAP_SQL}
    )
    SELECT
        (SELECT json_build_object(
            'critical', count(*) FILTER (WHERE critical AND (volume_met OR :low)),
            'warning', count(*) FILTER (WHERE NOT critical AND (volume_met OR :low)),
            'low_volume', count(*) FILTER (WHERE NOT volume_met))
         FROM found)::text AS counts,
        (SELECT coalesce(json_agg(f), '[]') FROM (
            SELECT * FROM found WHERE volume_met OR :low
            ORDER BY critical DESC, rejection_rate DESC, {_BY_SECTOR}
            LIMIT :shown) f)::text AS shown
    """
    found = conn.execute(text(sql), sql_params).one()
    counts = _json(found.counts)
    summary.update(counts)
    summary["total"] = counts["critical"] + counts["warning"]
    gaps = []
    for row in _json(found.shown):
        gap = coverage_gap(figures_from(row))
        if gap is None or (gap.severity == "critical") != row["critical"]:
            raise RulesDisagree(f"coverage gap of {row['territory_id']}: {row}")
        gaps.append(gap)
    gaps = sort_gaps(gaps)
    rows = [g.to_dict() for g in gaps]
    _name_orgs(conn, rows, params)
    return Report(
        "coverage-gaps",
        day,
        columns,
        rows,
        summary,
        {"truncated": len(gaps) < summary["total"]},
        freshness,
    )
