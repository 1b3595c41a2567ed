"""daily-trend-aggregation (spec §3): a communication_trends row (D, daily) per organization.

Shape of a run, all inside the run's transaction (runs.py holds the lock and the ledger):
1. one statement aggregates the UTC day's classifications and escalation alerts of every
   organization into a temp table (GROUPING SETS: one pass over the day's rows);
2. the rows are upserted in batches of BATCH_SIZE organizations, each under a savepoint; a batch
   that fails is rolled back and its organizations are retried one per savepoint, so only an
   organization that fails on its own is lost (and reported), the rest commit.
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
from opsmetrics.observability import logger
from opsmetrics.runs import JobContext, JobOutcome
from opsmetrics.trends import sql

# Organizations per savepoint: 1,000 organizations take 5 statements, and a failing batch
# costs at most 200 single-row retries.
BATCH_SIZE = 200
# Malformed sentiments quoted in the run's one warning: enough to recognise the shape.
MALFORMED_SAMPLE_SIZE = 3
# Memory for the aggregation's hash tables (this transaction only): the day's grouping sets of
# 1,000 organizations need about 15 MB; at the 4 MB default they spill to disk and sort instead.
WORK_MEM = "64MB"
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
    started = time.perf_counter()
    conn = ctx.conn
    day_start, day_end = day_bounds(ctx.target_date)
    one_org = ctx.org_id is not None
    scope: dict[str, Any] = {"day_start": day_start, "day_end": day_end}
    if one_org:
        scope["org_id"] = ctx.org_id

    conn.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": WORK_MEM})
    conn.execute(text(sql.DROP_DAY_TABLE))
    conn.execute(
        text(sql.aggregate_day_sql(one_org)), {**sql.aggregate_params(BATCH_SIZE), **scope}
    )
    totals = conn.execute(text(sql.DAY_TOTALS)).mappings().one()
    batches = _batches(conn)
    aggregated = time.perf_counter()

    if totals["malformed_sentiment"]:
        _log_malformed(conn, one_org, scope, int(totals["malformed_sentiment"]))
    if totals["bad_confidence"]:
        logger().warning(
            "classifications with a confidence outside [0, 1] left out of avg_confidence",
            extra={"bad_confidence": int(totals["bad_confidence"])},
        )

    written, replaced, retried, failures = _write(conn, ctx.target_date, batches)
    conn.execute(text(sql.DROP_DAY_TABLE))
    finished = time.perf_counter()

    failed = list(failures)
    processed = int(totals["organizations"])
    if failed and len(failed) == processed:
        first = next(iter(failures.values()))
        raise AllOrganizationsFailed(f"all {processed} organizations failed; first error: {first}")
    result = {
        "organizations_processed": processed,
        "trends_created": written,
        "errors": len(failed),
        "failed_organizations": failed,
    }
    stats = {
        **result,
        "trends_replaced": replaced,
        "classifications": int(totals["classifications"]),
        "malformed_sentiment": int(totals["malformed_sentiment"]),
        "bad_confidence": int(totals["bad_confidence"]),
        "escalation_alerts": int(totals["escalation_alerts"]),
        "quiet_organizations": int(totals["quiet_organizations"]),
        "hotspots": int(totals["hotspots"]),
        "batches": len(batches),
        "batches_retried": retried,
        "aggregate_ms": round((aggregated - started) * 1000),
        "write_ms": round((finished - aggregated) * 1000),
    }
    if failures:
        stats["failure_errors"] = dict(list(failures.items())[:FAILURE_DETAILS_KEPT])
    return JobOutcome(
        stats=stats,
        rows_written=written,
        bad_rows=int(totals["malformed_sentiment"]) + int(totals["bad_confidence"]),
        failed_orgs=failed,
        result=result,
        # counts only: a tenant reading job_runs must not learn other organizations' ids
        error=f"{len(failed)} of {processed} organizations failed (their ids and errors are in"
        " the stats: failed_organizations, failure_errors)"
        if failed
        else None,
    )


def _batches(conn: Connection) -> list[tuple[int, list[uuid.UUID]]]:
    batches: dict[int, list[uuid.UUID]] = {}
    for batch_no, org_id in conn.execute(text(sql.BATCHES)):
        batches.setdefault(int(batch_no), []).append(org_id)
    return sorted(batches.items())


def _write(
    conn: Connection, day: date, batches: list[tuple[int, list[uuid.UUID]]]
) -> tuple[int, int, int, dict[str, str]]:
    """Upsert every batch; returns (written, replaced, batches retried, {failed org: error})."""
    written = replaced = retried = 0
    failures: dict[str, str] = {}
    for batch_no, org_ids in batches:
        try:
            with conn.begin_nested():
                row = conn.execute(
                    text(sql.UPSERT_BATCH), {"trend_date": day, "batch_no": batch_no}
                ).one()
        except DBAPIError as exc:
            _raise_if_not_data(exc)
            retried += 1
            logger().warning(
                "trend batch failed; retrying its organizations one by one",
                extra={"batch": batch_no, "organizations": len(org_ids), "error": one_line(exc)},
            )
        else:
            written += row.written
            replaced += row.replaced
            continue
        for org_id in org_ids:
            try:
                with conn.begin_nested():
                    row = conn.execute(
                        text(sql.UPSERT_ONE), {"trend_date": day, "org_id": org_id}
                    ).one()
            except DBAPIError as exc:
                _raise_if_not_data(exc)
                failures[str(org_id)] = one_line(exc)
                logger().error(
                    "organization failed; its trend row was not written",
                    extra={"organization_id": str(org_id), "error": one_line(exc)},
                )
            else:
                written += row.written
                replaced += row.replaced
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
