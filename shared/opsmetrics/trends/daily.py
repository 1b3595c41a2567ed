"""daily-trend-aggregation (spec §3): a communication_trends row (D, daily) per organization.

Shape of a run, all inside the run's transaction (runs.py holds the lock and the ledger):
1. one statement aggregates the UTC day's classifications and escalation alerts of every
   organization into a temp table (GROUPING SETS: one pass over the day's rows);
2. the rows are upserted in batches of BATCH_SIZE organizations, each under a savepoint; a batch
   that fails is rolled back and its organizations are retried one per savepoint, so only an
   organization that fails on its own is lost (and reported), the rest commit.
Many dates (a backfill through opsmetrics.batch) are the same two steps over all of them: the
aggregation groups by (organization, day) over their span, and each row of a failing batch is
retried alone, so every date's rows are what a run of that date alone writes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from opsmetrics.errors import one_line, sqlstate
from opsmetrics.job_context import BatchContext, JobContext, JobOutcome
from opsmetrics.observability import logger
from opsmetrics.trends import sql

# Organizations per savepoint: 1,000 organizations take 5 statements, and a failing batch
# costs at most 200 single-row retries.
BATCH_SIZE = 200
# Rows per savepoint when many dates are written at once (BATCH_SIZE organizations per date, up
# to this): 30 dates of 1,000 organizations take 6 statements.
MAX_BATCH_ROWS = 5_000
# Malformed sentiments quoted in the run's one warning: enough to recognise the shape.
MALFORMED_SAMPLE_SIZE = 3
# Memory for the aggregation's hash tables (this transaction only): the day's grouping sets of
# 1,000 organizations need about 15 MB; at the 4 MB default they spill to disk and sort instead.
WORK_MEM = "64MB"
# Many dates (a batch) group about 27,000 rows per day and organization set (800,000 for 30 days
# at UK scale, 300 MB of hash tables): at 64MB the plan sorted on disk (measured: 9.4 s against
# 7-8 s). For the pass's transaction only.
MANY_DATES_WORK_MEM = "256MB"
# Failed organizations whose error is kept in job_runs.stats (all are logged and listed by id).
FAILURE_DETAILS_KEPT = 20


class AllOrganizationsFailed(Exception):
    """Every organization of the run failed: nothing was written, so the run is failed, not
    partial (and a backfill stops there instead of failing the same way day after day)."""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[D 00:00, D+1 00:00) in UTC, as aware datetimes (compared with created_at as timestamptz,
    so neither the session time zone nor an expression on the column comes into it)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def compute(ctx: JobContext) -> JobOutcome:
    return compute_dates(ctx.conn, [ctx.target_date], ctx.org_id)[ctx.target_date]


def compute_many(ctx: BatchContext) -> dict[date, JobOutcome]:
    """Many dates (opsmetrics.batch): the same statements, one grouped pass over their span."""
    return compute_dates(ctx.conn, ctx.dates, ctx.org_id)


def compute_dates(
    conn: Connection, dates: list[date], org_id: uuid.UUID | None
) -> dict[date, JobOutcome]:
    """Aggregate and write every date of `dates` (ascending); one JobOutcome per date. Raises
    AllOrganizationsFailed when every organization failed on any of them."""
    started = time.perf_counter()
    one_org = org_id is not None
    many = len(dates) > 1
    scope: dict[str, Any] = {
        "span_start": day_bounds(dates[0])[0],
        "span_end": day_bounds(dates[-1])[1],
        "dates": [d.isoformat() for d in dates],
        "first_date": dates[0],
    }
    if one_org:
        scope["org_id"] = org_id

    mem = MANY_DATES_WORK_MEM if many else WORK_MEM
    conn.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": mem})
    conn.execute(text(sql.DROP_DAY_TABLE))
    # A batch's upserts take BATCH_SIZE organizations' worth of rows of every date at once, up
    # to MAX_BATCH_ROWS: a few statements per pass, not a few per date.
    batch_rows = min(BATCH_SIZE * len(dates), max(BATCH_SIZE, MAX_BATCH_ROWS))
    # A bitmap scan, not an index scan, for the aggregation: the day's rows are read in the
    # table's order, not in created_at order, which the rows need not follow (measured with 4x
    # the history, where the planner turns to the index: 0.84-0.98 s against 1.49-1.79 s).
    was = conn.execute(
        text(
            "SELECT current_setting('enable_indexscan'),"
            " set_config('enable_indexscan', 'off', true)"
        )
    ).scalar_one()
    conn.execute(
        text(sql.aggregate_sql(one_org, many)), {**sql.aggregate_params(batch_rows), **scope}
    )
    conn.execute(text("SELECT set_config('enable_indexscan', :was, true)"), {"was": was})
    totals = {r["trend_date"]: r for r in conn.execute(text(sql.DAY_TOTALS)).mappings()}
    batches = _batches(conn)
    aggregated = time.perf_counter()

    malformed = sum(int(t["malformed_sentiment"]) for t in totals.values())
    if malformed:
        _log_malformed(conn, one_org, scope, malformed)
    bad_confidence = sum(int(t["bad_confidence"]) for t in totals.values())
    if bad_confidence:
        logger().warning(
            "classifications with a confidence outside [0, 1] left out of avg_confidence",
            extra={"bad_confidence": bad_confidence},
        )

    written, replaced, retried, failures = _write(conn, batches)
    conn.execute(text(sql.DROP_DAY_TABLE))
    finished = time.perf_counter()

    outcomes: dict[date, JobOutcome] = {}
    for day in dates:
        t = totals.get(day, _NO_ROWS)  # no organizations at all: an empty, successful day
        failed = list(failures.get(day, {}))
        processed = int(t["organizations"])
        if failed and len(failed) == processed:
            first = next(iter(failures[day].values()))
            raise AllOrganizationsFailed(
                f"all {processed} organizations failed; first error: {first}"
            )
        result = {
            "organizations_processed": processed,
            "trends_created": written.get(day, 0),
            "errors": len(failed),
            "failed_organizations": failed,
        }
        stats = {
            **result,
            "trends_replaced": replaced.get(day, 0),
            "classifications": int(t["classifications"]),
            "malformed_sentiment": int(t["malformed_sentiment"]),
            "bad_confidence": int(t["bad_confidence"]),
            "escalation_alerts": int(t["escalation_alerts"]),
            "quiet_organizations": int(t["quiet_organizations"]),
            "hotspots": int(t["hotspots"]),
            "batches": len(batches),
            "batches_retried": retried,
            "aggregate_ms": round((aggregated - started) * 1000),
            "write_ms": round((finished - aggregated) * 1000),
        }
        if failed:
            stats["failure_errors"] = dict(list(failures[day].items())[:FAILURE_DETAILS_KEPT])
        outcomes[day] = JobOutcome(
            stats=stats,
            rows_written=written.get(day, 0),
            bad_rows=int(t["malformed_sentiment"]) + int(t["bad_confidence"]),
            failed_orgs=failed,
            result=result,
            # counts only: a tenant reading job_runs must not learn other organizations' ids
            error=f"{len(failed)} of {processed} organizations failed (their ids and errors are"
            " in the stats: failed_organizations, failure_errors)"
            if failed
            else None,
        )
    return outcomes


_NO_ROWS: Mapping[str, Any] = {
    k: 0
    for k in (
        "organizations",
        "classifications",
        "malformed_sentiment",
        "bad_confidence",
        "escalation_alerts",
        "quiet_organizations",
        "hotspots",
    )
}
Batch = tuple[int, list[tuple[date, uuid.UUID]]]


def _batches(conn: Connection) -> list[Batch]:
    batches: dict[int, list[tuple[date, uuid.UUID]]] = {}
    for batch_no, day, org_id in conn.execute(text(sql.BATCHES)):
        batches.setdefault(int(batch_no), []).append((day, org_id))
    return sorted(batches.items())


def _write(
    conn: Connection, batches: list[Batch]
) -> tuple[dict[date, int], dict[date, int], int, dict[date, dict[str, str]]]:
    """Upsert every batch; returns (written per date, replaced per date, batches retried,
    {date: {failed org: error}})."""
    written: dict[date, int] = {}
    replaced: dict[date, int] = {}
    retried = 0
    failures: dict[date, dict[str, str]] = {}

    def count(rows: Any) -> None:
        for row in rows:
            written[row.trend_date] = written.get(row.trend_date, 0) + row.written
            replaced[row.trend_date] = replaced.get(row.trend_date, 0) + row.replaced

    for batch_no, members in batches:
        try:
            with conn.begin_nested():
                rows = conn.execute(text(sql.UPSERT_BATCH), {"batch_no": batch_no}).all()
        except DBAPIError as exc:
            _raise_if_not_data(exc)
            retried += 1
            logger().warning(
                "trend batch failed; retrying its organizations one by one",
                extra={"batch": batch_no, "organizations": len(members), "error": one_line(exc)},
            )
        else:
            count(rows)
            continue
        # Only after a failure: one row per (organization, date), so that exactly the rows
        # that fail on their own are lost, as in a run of each date alone.
        for day, org_id in members:
            try:
                with conn.begin_nested():
                    rows = conn.execute(
                        text(sql.UPSERT_ONE), {"trend_date": day, "org_id": org_id}
                    ).all()
            except DBAPIError as exc:
                _raise_if_not_data(exc)
                failures.setdefault(day, {})[str(org_id)] = one_line(exc)
                logger().error(
                    "organization failed; its trend row was not written",
                    extra={
                        "organization_id": str(org_id),
                        "trend_date": str(day),
                        "error": one_line(exc),
                    },
                )
            else:
                count(rows)
    return written, replaced, retried, failures


def _log_malformed(conn: Connection, one_org: bool, scope: Mapping[str, Any], count: int) -> None:
    sample = conn.execute(
        text(sql.malformed_sample_sql(one_org)), {**scope, "sample_size": MALFORMED_SAMPLE_SIZE}
    ).mappings()
    logger().warning(
        "malformed sentiment left out of sentiment_distribution",
        extra={"malformed_sentiment": count, "sample": [dict(r) for r in sample]},
    )


def _raise_if_not_data(exc: DBAPIError) -> None:
    """Only an organization's own data can fail its batch and be retried alone. A lost connection,
    a cancelled statement (timeout, shutdown) or a server out of resources would fail every
    retry too, and hide its cause behind the next statement's PendingRollbackError: the run
    fails with it instead."""
    state = sqlstate(exc)[0] or ""
    if exc.connection_invalidated or not state or state[:2] in _NOT_DATA_CLASSES:
        raise exc


# SQLSTATE classes that say nothing about the rows: connection exception, insufficient
# resources, operator intervention (57014 statement timeout, 57P01 shutdown), system error,
# transaction rollback (deadlock, serialization), object not in prerequisite state (55P03
# lock_not_available).
_NOT_DATA_CLASSES = {"08", "40", "53", "55", "57", "58", "XX"}
