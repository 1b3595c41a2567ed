"""The consecutive-week counters (CONTRACT §3, §7) in SQL: one statement for a Sunday S from S-7,
and one statement that carries S's counters forward through every later computed Sunday.

    hiring_trigger_weeks(S) = hiring_trigger_weeks(S-7) + 1 if utilization(S) > 80 else 0
    coverage_gap_weeks(S)   = coverage_gap_weeks(S-7) + 1   if rejection(S) > 10 and volume, else 0

A missing S-7 row counts as 0. Both statements use the same two conditions, below.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.territory.rules import GAP_WARNING_REJECTION, HIRING_UTILIZATION, MINIMUM_VOLUME

# When a week extends a streak, over territory_metrics aliased `m`.
OVERLOADED_SQL = f"m.primary_medic_utilization > {HIRING_UTILIZATION}"
GAP_SQL = f"(m.rejection_rate > {GAP_WARNING_REJECTION} AND m.total_bookings >= {MINIMUM_VOLUME})"


def previous_week(sunday: date) -> date:
    return sunday - timedelta(days=7)


def _org_filter(org_id: uuid.UUID | None, alias: str, params: dict[str, Any]) -> str:
    if org_id is None:
        return ""
    params["org_id"] = org_id
    return f"AND {alias}.org_id = :org_id"


_ONE_WEEK = """
WITH updated AS (
    UPDATE territory_metrics m SET
        hiring_trigger_weeks = CASE WHEN {overloaded} THEN prev.hiring_trigger_weeks + 1 ELSE 0 END,
        coverage_gap_weeks = CASE WHEN {gap} THEN prev.coverage_gap_weeks + 1 ELSE 0 END
    FROM (
        SELECT c.territory_id,
               p.territory_id IS NOT NULL AS found,
               coalesce(p.hiring_trigger_weeks, 0) AS hiring_trigger_weeks,
               coalesce(p.coverage_gap_weeks, 0) AS coverage_gap_weeks
        FROM territory_metrics c
        LEFT JOIN territory_metrics p
               ON p.territory_id = c.territory_id AND p.metric_date = :previous
        WHERE c.metric_date = :day {org_filter}
    ) prev
    WHERE m.territory_id = prev.territory_id AND m.metric_date = :day
    RETURNING prev.found, m.hiring_trigger_weeks, m.coverage_gap_weeks
)
SELECT count(*) AS counters_updated,
       count(*) FILTER (WHERE NOT found) AS without_previous_week,
       count(*) FILTER (WHERE hiring_trigger_weeks > 0) AS overloaded_territories,
       count(*) FILTER (WHERE coverage_gap_weeks > 0) AS coverage_gap_territories
FROM updated
"""


def update_week(conn: Connection, sunday: date, org_id: uuid.UUID | None) -> dict[str, int]:
    """Set both counters of `sunday` from its own figures and S-7's counters."""
    params: dict[str, Any] = {"day": sunday, "previous": previous_week(sunday)}
    sql = _ONE_WEEK.format(
        overloaded=OVERLOADED_SQL, gap=GAP_SQL, org_filter=_org_filter(org_id, "c", params)
    )
    row = conn.execute(text(sql), params).mappings().one()
    return {k: int(v) for k, v in row.items()}


# Gaps and islands: over the Sunday rows from S to the last Sunday, per territory, a streak
# restarts at S (its counters are already right), where the condition fails (0), or where the
# previous Sunday's row is missing (1). Within an island every row meets the condition, so a
# counter is the island's first value plus the rows since.
_FORWARD = """
WITH sundays AS MATERIALIZED (
    SELECT m.territory_id, m.metric_date, m.hiring_trigger_weeks, m.coverage_gap_weeks,
           {overloaded} AS overloaded, coalesce({gap}, false) AS gap,
           lag(m.metric_date) OVER w AS before
    FROM territory_metrics m
    WHERE m.metric_date BETWEEN :day AND :last AND extract(isodow FROM m.metric_date) = 7
          {org_filter}
    WINDOW w AS (PARTITION BY m.territory_id ORDER BY m.metric_date)
), starts AS (
    SELECT s.*,
           (metric_date = :day OR NOT overloaded OR before IS DISTINCT FROM metric_date - 7)
               AS hiring_start,
           (metric_date = :day OR NOT gap OR before IS DISTINCT FROM metric_date - 7)
               AS gap_start,
           CASE WHEN metric_date = :day THEN hiring_trigger_weeks
                WHEN overloaded THEN 1 ELSE 0 END AS hiring_first,
           CASE WHEN metric_date = :day THEN coverage_gap_weeks
                WHEN gap THEN 1 ELSE 0 END AS gap_first
    FROM sundays s
), islands AS (
    SELECT st.*,
           count(*) FILTER (WHERE hiring_start) OVER w AS hiring_island,
           count(*) FILTER (WHERE gap_start) OVER w AS gap_island
    FROM starts st
    WINDOW w AS (PARTITION BY territory_id ORDER BY metric_date)
), counted AS (
    SELECT territory_id, metric_date,
           first_value(hiring_first) OVER hw + row_number() OVER hw - 1 AS hiring,
           first_value(gap_first) OVER gw + row_number() OVER gw - 1 AS gap
    FROM islands
    WINDOW hw AS (PARTITION BY territory_id, hiring_island ORDER BY metric_date),
           gw AS (PARTITION BY territory_id, gap_island ORDER BY metric_date)
), changed AS (
    UPDATE territory_metrics m
    SET hiring_trigger_weeks = c.hiring, coverage_gap_weeks = c.gap
    FROM counted c
    WHERE c.metric_date > :day AND m.territory_id = c.territory_id
      AND m.metric_date = c.metric_date
      AND (m.hiring_trigger_weeks, m.coverage_gap_weeks) IS DISTINCT FROM (c.hiring, c.gap)
    RETURNING 1
)
SELECT (SELECT count(DISTINCT metric_date) FROM sundays WHERE metric_date > :day)
           AS weeks_recomputed,
       (SELECT count(*) FROM changed) AS counters_changed
"""


def carry_forward(
    conn: Connection, sunday: date, last: date | None, org_id: uuid.UUID | None
) -> dict[str, int]:
    """Recompute the counters of every Sunday after `sunday` up to `last`, in one statement, from
    `sunday`'s (already updated) counters. Nothing to do when `last` is not after `sunday`."""
    if last is None or last <= sunday:
        return {"weeks_recomputed": 0, "counters_changed": 0}
    params: dict[str, Any] = {"day": sunday, "last": last}
    sql = _FORWARD.format(
        overloaded=OVERLOADED_SQL, gap=GAP_SQL, org_filter=_org_filter(org_id, "m", params)
    )
    row = conn.execute(text(sql), params).mappings().one()
    return {k: int(v) for k, v in row.items()}
