"""One date of a job as one run: lock, ledger row, one transaction, after-commit step.

The numbered steps are in runs.py's docstring; the guards (session limits, locks, the failure
record) in run_session.py. batch.py runs many dates in one pass and falls back to this.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from opsmetrics import jobs, ledger
from opsmetrics.config import Settings
from opsmetrics.db import ledger_engine
from opsmetrics.db_sockets import driver_connection, fatal_error, read_timeout
from opsmetrics.errors import JobAlreadyRunning, interrupted, one_line
from opsmetrics.job_context import AfterCommit, JobContext, JobFunction, JobOutcome
from opsmetrics.ledger import RunRequest
from opsmetrics.run_results import DateRun
from opsmetrics.run_session import (
    acquire_run_lock,
    bound_session,
    record_failure,
    rollback_quietly,
)


def run_one(
    spec: jobs.Job,
    fn: JobFunction,
    target: date,
    *,
    trigger: str,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
    request: RunRequest | None = None,
    run_id: uuid.UUID | None = None,
) -> DateRun:
    """One date as one run. run_id: a ledger row already opened for it (a batch's, rerun
    date by date after the batch failed) instead of a new one."""
    from opsmetrics.observability import logger

    log = logger()
    started = time.perf_counter()
    with engine.connect() as conn, read_timeout(conn, settings.read_timeout_s):
        conn.begin()
        driver_conn = driver_connection(conn)
        try:
            # The session's limits first: a run interrupted while it waits for its lock must not
            # leave a server session waiting on (see bound_session).
            bound_session(conn, settings)
            acquire_run_lock(conn, spec.name, target, settings)
            if spec.recomputes_later_dates:
                # Its runs rewrite later dates' rows: two at once (an operator's rerun of an
                # old Sunday, Monday's tick) would each count from the other's old figures.
                acquire_run_lock(conn, spec.name, None, settings)
        except JobAlreadyRunning:
            conn.rollback()
            raise
        waited_ms = round((time.perf_counter() - started) * 1000)
        if run_id is None:
            run_id = ledger.open_run(
                ledger_engine(engine),
                spec.name,
                target,
                trigger,
                org_id,
                request or RunRequest("single"),
            )
        log.append_keys(job=spec.name, target_date=target.isoformat(), run_id=str(run_id))
        try:
            ctx = JobContext(conn, target, org_id, run_id, trigger, settings, spec.name)
            outcome = fn(ctx)
            duration_ms = round((time.perf_counter() - started) * 1000)
            status = outcome.status
            stats = outcome.ledger_stats(duration_ms, waited_ms, org_id)
            ledger.close_run(conn, run_id, status, stats, outcome.error)
            conn.commit()
            if outcome.after_commit is not None:
                status = _run_after_commit(engine, run_id, outcome, status, stats)
        except BaseException as exc:
            # BaseException too: Ctrl-C, SIGTERM or a Lambda shutdown must not leave a `running`
            # row.
            # A server that ended the session said why first: that is the cause, the closed
            # socket only its symptom.
            cause = fatal_error(driver_conn) or exc
            error = one_line(cause) if isinstance(exc, Exception) else interrupted(exc)
            duration_ms = round((time.perf_counter() - started) * 1000)
            stats = {"duration_ms": duration_ms, "lock_wait_ms": waited_ms}
            if org_id is not None:
                stats["org_id"] = str(org_id)
            # Record the failure before the rollback releases the lock (see module docstring).
            recorded = record_failure(engine, run_id, stats, error)
            if isinstance(exc, Exception):
                rollback_quietly(conn)
            else:
                # Interrupted, perhaps mid-statement: a rollback would queue behind the statement
                # it interrupted. Closing the connection ends both; the server notices within
                # CLIENT_CHECK_MS, rolls back and releases the lock.
                conn.invalidate()
            log.error(
                "job failed",
                # Said only when it matters: the row stays `running` until the sweep closes it.
                extra={"error": error, **({} if recorded else {"failure_recorded": False})},
                # A traceback only for what may be a bug, not for the database or the network.
                exc_info=isinstance(exc, Exception) and not isinstance(exc, DBAPIError | OSError),
            )
            emit_metrics(spec.name, "failed", stats, JobOutcome(stats={}), settings)
            if not isinstance(exc, Exception):
                raise
            return DateRun(target, "failed", str(run_id), stats, {}, error)
        finally:
            log.remove_keys(["job", "target_date", "run_id"])
    log.info(
        "job finished",
        extra={
            "job": spec.name,
            "target_date": target.isoformat(),
            "run_id": str(run_id),
            "status": status,
            "stats": stats,
        },
    )
    emit_metrics(spec.name, status, stats, outcome, settings)
    return DateRun(target, status, str(run_id), stats, outcome.result, outcome.error)


def _run_after_commit(
    engine: Engine, run_id: uuid.UUID, outcome: JobOutcome, status: str, stats: dict[str, Any]
) -> str:
    """Run the job's post-commit step; a failure there makes the run `partial`, never `failed`
    (its outputs are committed and correct), and the ledger row says why."""
    from opsmetrics.observability import logger

    assert outcome.after_commit is not None
    error = None
    try:
        extra = outcome.after_commit()
    except Exception as exc:
        error = f"after commit: {one_line(exc)}"
        logger().exception("post-commit step failed", extra={"error": error})
        extra = AfterCommit()
    error = outcome.error = error or extra.error or outcome.error
    stats.update(extra.stats)
    outcome.result.update(extra.result)
    outcome.failed_orgs.extend(extra.failed_orgs)
    if extra.failed_orgs or error:
        status = "partial"
    if outcome.failed_orgs:
        stats["failed_organizations"] = outcome.failed_orgs
    with ledger_engine(engine).begin() as record:
        ledger.close_run(record, run_id, status, stats, error)
    return status


def emit_metrics(
    job: str, status: str, stats: dict[str, Any], outcome: JobOutcome, settings: Settings
) -> None:
    """EMF metrics per job run, in Lambda only: elsewhere nothing would flush them."""
    if not settings.in_lambda:
        return
    from aws_lambda_powertools.metrics import MetricUnit

    from opsmetrics.observability import metrics

    m = metrics()
    m.add_metric(
        name=f"{job}.duration", unit=MetricUnit.Milliseconds, value=stats.get("duration_ms", 0)
    )
    m.add_metric(name=f"{job}.rows_written", unit=MetricUnit.Count, value=outcome.rows_written)
    m.add_metric(name=f"{job}.bad_rows", unit=MetricUnit.Count, value=outcome.bad_rows)
    m.add_metric(
        name=f"{job}.organizations_failed", unit=MetricUnit.Count, value=len(outcome.failed_orgs)
    )
    m.add_metric(name=f"{job}.{status}", unit=MetricUnit.Count, value=1)
