"""The consecutive-week counters (spec §3, §7) in SQL: one statement for a Sunday S from S-7,
and one statement that carries S's counters forward through every later computed Sunday.

    hiring_trigger_weeks(S) = hiring_trigger_weeks(S-7) + 1 if rules.HIRING_STREAK's week, else 0
    coverage_gap_weeks(S)   = coverage_gap_weeks(S-7) + 1   if rules.GAP_STREAK's week, else 0

A missing S-7 row counts as 0. Both statements use the two conditions of rules.py, rendered by
rules_sql (OVERLOADED_SQL, GAP_WEEK_SQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.territory.figures import org_filter
from opsmetrics.territory.rules_sql import GAP_WEEK_SQL, OVERLOADED_SQL


def previous_week(sunday: date) -> date:
    return sunday - timedelta(days=7)


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
        overloaded=OVERLOADED_SQL, gap=GAP_WEEK_SQL, org_filter=org_filter(org_id, "c", params)
    )
    row = conn.execute(text(sql), params).mappings().one()
    return {k: int(v) for k, v in row.items()}


# Gaps and islands in one pass over the rows of S and the later computed Sundays, read in
# (territory, date) order from the primary key. Per territory, a streak restarts at S (whose
# counters are already right), where the condition fails (0 that week), or where the previous
# computed Sunday is not the week before (1 that week). Every row after a restart meets the
# condition and follows it by a week, so a counter is the restart's value plus the weeks since.
# A restart is coded as week_number * STEP + value, so one running max per counter finds the
# latest restart and its value (week_number counts weeks from S, so codes only grow).
STEP = 1_000_000
_RESTART = """max(CASE
        WHEN metric_date = :day THEN {counter}
        WHEN NOT {condition} THEN week * {step}
        WHEN before IS DISTINCT FROM metric_date - 7 THEN week * {step} + 1
    END) OVER w"""
_FORWARD = """
WITH marked AS (
    SELECT m.territory_id, m.metric_date, m.hiring_trigger_weeks, m.coverage_gap_weeks,
           (m.metric_date - CAST(:day AS date)) / 7 AS week,
           {overloaded} AS overloaded, coalesce({gap}, false) AS gap,
           lag(m.metric_date) OVER w AS before
    FROM territory_metrics m
    WHERE m.metric_date = ANY(CAST(:sundays AS date[])) {org_filter}
    WINDOW w AS (PARTITION BY m.territory_id ORDER BY m.metric_date)
), restarts AS (
    SELECT territory_id, metric_date, week, hiring_trigger_weeks, coverage_gap_weeks,
           {hiring_restart} AS hiring_code,
           {gap_restart} AS gap_code
    FROM marked
    -- ROWS, not the default RANGE: a date is unique per territory, and RANGE's search for
    -- peer rows costs about as much as the maxima themselves
    WINDOW w AS (PARTITION BY territory_id ORDER BY metric_date ROWS UNBOUNDED PRECEDING)
), counted AS (
    SELECT territory_id, metric_date, hiring_trigger_weeks, coverage_gap_weeks,
           mod(hiring_code, {step}) + week - hiring_code / {step} AS hiring,
           mod(gap_code, {step}) + week - gap_code / {step} AS gap
    FROM restarts
    WHERE metric_date > :day
), changed AS (
    -- Only rows whose counters move are written, found again by their key (a concurrent daily
    -- rerun may have moved a row since the read): a rerun with nothing to change writes nothing.
    UPDATE territory_metrics m
    SET hiring_trigger_weeks = c.hiring, coverage_gap_weeks = c.gap
    FROM (SELECT * FROM counted
          WHERE (hiring_trigger_weeks, coverage_gap_weeks) IS DISTINCT FROM (hiring, gap)) c
    WHERE m.territory_id = c.territory_id AND m.metric_date = c.metric_date
    RETURNING 1
)
SELECT count(*) AS counters_changed FROM changed
"""
# For this statement only (restored after it): JIT compiles this statement for longer than it
# runs; the window's sort fits in memory; and the rows to change are found again through the
# primary key, not by hashing the whole table, which the planner would pick from its estimate.
FORWARD_SETTINGS = {
    "jit": "off",
    "work_mem": "128MB",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
}


def forward_sql(org_id: uuid.UUID | None, params: dict[str, Any]) -> str:
    return _FORWARD.format(
        overloaded=OVERLOADED_SQL,
        gap=GAP_WEEK_SQL,
        org_filter=org_filter(org_id, "m", params),
        step=STEP,
        hiring_restart=_RESTART.format(
            counter="hiring_trigger_weeks", condition="overloaded", step=STEP
        ),
        gap_restart=_RESTART.format(counter="coverage_gap_weeks", condition="gap", step=STEP),
    )


def carry_forward(
    conn: Connection, sunday: date, later: list[date], org_id: uuid.UUID | None
) -> dict[str, int]:
    """Recompute the counters of the `later` computed Sundays from `sunday`'s (already updated)
    counters, in one statement."""
    later = sorted(d for d in later if d > sunday)
    if not later:
        return {"weeks_recomputed": 0, "counters_changed": 0}
    params: dict[str, Any] = {"day": sunday, "sundays": [d.isoformat() for d in [sunday, *later]]}
    sql = forward_sql(org_id, params)
    with local_settings(conn, FORWARD_SETTINGS):
        changed = int(conn.execute(text(sql), params).scalar_one())
    return {"weeks_recomputed": len(later), "counters_changed": changed}


@contextmanager
def local_settings(conn: Connection, settings: dict[str, str]) -> Iterator[None]:
    """Settings for the statements inside, then back to what they were in the transaction."""
    names, values = list(settings), list(settings.values())
    before = conn.execute(
        text(
            "SELECT n, current_setting(n), set_config(n, v, true)"
            " FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) AS x(n, v)"
        ),
        {"n": names, "v": values},
    ).all()
    yield
    # Only after success: a failed statement has aborted the transaction, which ends the
    # settings anyway, and a restore there would replace the real error with 25P02.
    conn.execute(
        text(
            "SELECT set_config(n, v, true)"
            " FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) AS x(n, v)"
        ),
        {"n": [r[0] for r in before], "v": [r[1] for r in before]},
    )
