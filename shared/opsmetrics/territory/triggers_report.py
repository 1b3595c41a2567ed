"""The `hiring-triggers` report: counts by severity over every trigger of a week-ending Sunday,
the most urgent triggers, and both by region, in one statement.

The database ranks and counts with the rules' SQL (rules_sql.py); the rows shown are then built
by the pure rules (triggers.py), and a row the two disagree on is raised as a bug. Which Sunday it
shows is reports.computed's choice (spec §7): without a date, the latest weekly-hiring-triggers
computed for the organization; a date it never computed is NotFound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.reports import computed
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.territory import report_reads as reads
from opsmetrics.territory.conditions import SEVERITIES
from opsmetrics.territory.figures import figures_from
from opsmetrics.territory.rules import TRIGGER_TYPES
from opsmetrics.territory.rules_sql import (
    SEVERITY_RANK_SQL,
    TRIGGER_EXCESS_SQL,
    TRIGGER_SEVERITY_SQL,
    TRIGGER_WEEKS_SQL,
)
from opsmetrics.territory.triggers import (
    HiringTrigger,
    count_by_severity,
    group_by_region,
    trigger_of,
)

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
    # region, then per type and severity the count of rows: <severity>_<type rank>
    counts = ", ".join(
        f"count(*) FILTER (WHERE s{i} = '{severity}') AS {severity}_{i}"
        for i in range(len(kinds))
        for severity in SEVERITIES
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
    columns = reads.with_org(TRIGGER_COLUMNS, params)
    sql_params: dict[str, Any] = {"day": day, "shown": reads.shown(params)}
    found = conn.execute(text(_triggers_sql(reads.filters(params, sql_params))), sql_params).one()

    per_region: dict[str, dict[str, int]] = {}
    summary = count_by_severity([])
    for entry in reads.decode(found.counts):
        region = entry.pop("region")
        counts = count_by_severity([])
        for key, n in entry.items():
            counts[key.rsplit("_", 1)[0]] += n
        counts["total"] = sum(counts[severity] for severity in SEVERITIES)
        if counts["total"]:
            per_region[region] = counts
            for key, n in counts.items():
                summary[key] += n

    listed: list[HiringTrigger] = []
    for row in reads.decode(found.shown):
        kind = TRIGGER_TYPES[row["type_rank"]]
        trigger = trigger_of(kind, figures_from(row))
        if trigger is None or trigger.severity != row["severity"]:
            raise reads.RulesDisagree(f"{kind} of {row}")
        listed.append(trigger)
    rows = [t.to_dict() for t in listed]
    reads.name_orgs(conn, rows, params)
    as_row = {id(t): r for t, r in zip(listed, rows, strict=True)}
    by_region = [
        {"region": g.region, **g.counts, "triggers": [as_row[id(t)] for t in g.triggers]}
        for g in group_by_region(listed, per_region)
    ]
    return Report(
        "hiring-triggers",
        day,
        columns,
        rows,
        summary,
        {"by_region": by_region, "truncated": len(listed) < summary["total"]},
        freshness,
    )
