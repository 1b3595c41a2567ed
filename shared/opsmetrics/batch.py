"""Many dates of a daily job in one set-based pass (a backfill, a catch-up): see docs/scaling.md.

`runs.run` hands its planned dates here when the job has a batch function (BATCHED) and more
than one date. The dates are cut into chunks of consecutive dates (at most MAX_DATES, no gap of
more than MAX_GAP_DAYS: a pass reads the whole span between its first and last date). A chunk is
one transaction on one connection:

1. the (job, date) advisory locks of all its dates, oldest first, each waiting at most
   lock_wait_s, as a run of one date does;
2. one `running` ledger row per date (ledger.open_run), committed at once so they are visible;
3. the job's batch function computes every date in a few statements and returns one JobOutcome
   per date; each date's ledger row is closed with its own stats in the same transaction as the
   outputs, so outputs and records commit together, as for one date.

Failure: when anything in the chunk fails (a statement, a lock that is busy, a date on which
every organization failed), the chunk's transaction rolls back, so none of its outputs are
written, and its dates are run again one by one through run_one, reusing their ledger rows.
That is exactly the sequence of separate runs: the dates before the failing one are committed,
the failing one is `failed` with its own cause, and the dates after it are not run (`skipped`):
the `running` rows the chunk opened for them are removed, so the ledger holds what separate runs
leave, no row for a date that was not run. Partial dates
(some organizations failed) do not stop anything, as before.

Progress: `on_progress` is called once per date, as each chunk commits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlalchemy import Connection, Engine, text

from opsmetrics import jobs, ledger
from opsmetrics.config import Settings
from opsmetrics.db import ledger_engine
from opsmetrics.db_sockets import read_timeout
from opsmetrics.errors import JobAlreadyRunning, interrupted, one_line
from opsmetrics.job_context import BatchContext, BatchFunction, JobFunction
from opsmetrics.ledger import LOCK_KEY_SQL, RunRequest
from opsmetrics.one_date import emit_metrics, run_one
from opsmetrics.run_results import DateRun
from opsmetrics.run_session import bound_session, record_failure, rollback_quietly, take_locks

# Dates per pass: a month. Measured at UK scale (docs/scaling.md): a pass of 30 territory dates
# costs 0.42 s a date, one of 90 dates 0.57 s a date (its 96 days of per-day sums no longer fit
# in memory and spill), so longer requests go in monthly passes; progress is reported after each.
MAX_DATES = 31
# Dates further apart than a territory window start a new chunk: a pass reads every day between
# its first and last date, so a catch-up of two distant dates is two small passes, not one big.
MAX_GAP_DAYS = 7


def _territory() -> tuple[JobFunction, BatchFunction]:
    from opsmetrics.territory.batch import compute_many
    from opsmetrics.territory.daily import compute

    return compute, compute_many


def _trends() -> tuple[JobFunction, BatchFunction]:
    from opsmetrics.trends.daily import compute, compute_many

    return compute, compute_many


# Each job whose requests of many dates run as passes: its one-date function and its batch
# function.
BATCHED: dict[str, Callable[[], tuple[JobFunction, BatchFunction]]] = {
    "daily-territory-metrics": _territory,
}
# Passes that exist, are tested to write exactly what separate runs write, and are not used.
# The trend job's dates share no rows (each UTC day is read by its own date only), so a pass can
# only save each run's fixed costs, and its grouping over (organization, day) builds hash tables
# 30 times larger: measured at UK scale, 30 dates took 12.8-16.1 s in one pass against 10.1 s as
# separate runs (docs/scaling.md). Add it to BATCHED to use it.
AVAILABLE: dict[str, Callable[[], tuple[JobFunction, BatchFunction]]] = {
    "daily-trend-aggregation": _trends,
}


def applies(spec: jobs.Job, dates: Sequence[date]) -> bool:
    """More than one date of a job with a batch function, as long as the job still runs the
    one-date function that batch function stands for (a job given another function, as tests
    do, runs date by date)."""
    if spec.name not in BATCHED or len(dates) < 2:
        return False
    one_date, _ = BATCHED[spec.name]()
    return spec.load() is one_date


def chunks(dates: Sequence[date], max_dates: int | None = None) -> list[list[date]]:
    """Ascending dates cut where a chunk is full (MAX_DATES) or the gap exceeds MAX_GAP_DAYS."""
    max_dates = max_dates or MAX_DATES
    out: list[list[date]] = []
    for d in sorted(dates):
        if out and len(out[-1]) < max_dates and d - out[-1][-1] <= timedelta(days=MAX_GAP_DAYS):
            out[-1].append(d)
        else:
            out.append([d])
    return out


def run_dates(
    spec: jobs.Job,
    dates: Sequence[date],
    *,
    trigger: str,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
    request: RunRequest,
    on_progress: Callable[[int, int, DateRun], None] | None = None,
    time_left_s: Callable[[], float] | None = None,
) -> list[DateRun]:
    """Every date, chunk by chunk, with the loop's rules: a failed date stops the dates after
    it (skipped), a chunk does not start with less than settings.min_time_left_s to go."""
    ordered = sorted(dates)
    done: list[DateRun] = []
    for chunk in chunks(ordered):
        if time_left_s is not None and time_left_s() < settings.min_time_left_s:
            break
        if len(chunk) == 1:
            outcomes = [
                run_one(
                    spec,
                    spec.load(),
                    chunk[0],
                    trigger=trigger,
                    engine=engine,
                    settings=settings,
                    org_id=org_id,
                    request=request,
                )
            ]
        else:
            outcomes = run_chunk(
                spec,
                chunk,
                trigger=trigger,
                engine=engine,
                settings=settings,
                org_id=org_id,
                request=request,
            )
        for outcome in outcomes:
            done.append(outcome)
            if on_progress is not None:
                on_progress(len(done), len(ordered), outcome)
        if any(o.status == "failed" for o in outcomes):
            break
    done.extend(DateRun(d, "skipped") for d in ordered[len(done) :])
    return done


def run_chunk(
    spec: jobs.Job,
    chunk: list[date],
    *,
    trigger: str,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
    request: RunRequest,
) -> list[DateRun]:
    """One pass over `chunk`; on any failure, the same dates one by one (module docstring)."""
    from opsmetrics.observability import logger

    _, fn = BATCHED[spec.name]()
    started = time.perf_counter()
    run_ids: dict[date, uuid.UUID] = {}
    with engine.connect() as conn, read_timeout(conn, settings.read_timeout_s):
        conn.begin()
        try:
            # As run_one: the session's limits before the lock wait (bound_session).
            bound_session(conn, settings)
            _acquire_locks(conn, spec.name, chunk, settings)
        except JobAlreadyRunning:
            conn.rollback()
            return _one_by_one(spec, chunk, {}, trigger, engine, settings, org_id, request)
        waited_ms = round((time.perf_counter() - started) * 1000)
        for d in chunk:
            run_ids[d] = ledger.open_run(
                ledger_engine(engine), spec.name, d, trigger, org_id, request
            )
        try:
            ctx = BatchContext(conn, chunk, org_id, run_ids, trigger, settings, spec.name)
            outcomes = fn(ctx)
            duration_ms = round((time.perf_counter() - started) * 1000)
            results: list[DateRun] = []
            for d in chunk:
                outcome = outcomes[d]
                status = outcome.status
                # duration_ms: the whole pass (its dates share one transaction)
                stats = outcome.ledger_stats(
                    duration_ms,
                    waited_ms,
                    org_id,
                    batch={"dates": len(chunk), "first": str(chunk[0]), "last": str(chunk[-1])},
                )
                ledger.close_run(conn, run_ids[d], status, stats, outcome.error)
                results.append(
                    DateRun(d, status, str(run_ids[d]), stats, outcome.result, outcome.error)
                )
            conn.commit()
        except Exception as exc:
            rollback_quietly(conn)
            logger().warning(
                "batch failed; running its dates one by one",
                extra={
                    "job": spec.name,
                    "first": str(chunk[0]),
                    "last": str(chunk[-1]),
                    "error": one_line(exc),
                },
            )
            return _one_by_one(spec, chunk, run_ids, trigger, engine, settings, org_id, request)
        except BaseException as exc:
            # Ctrl-C, SIGTERM or a Lambda shutdown: nothing of the chunk is committed; its rows
            # say so (written before the lock goes), then the connection is closed, as run_one
            # does, rather than rolled back behind the statement it interrupted.
            for run_id in run_ids.values():
                record_failure(engine, run_id, {}, interrupted(exc))
            conn.invalidate()
            raise
    for d, result in zip(chunk, results, strict=True):
        # as run_one does for each date: its log line and its metrics (EMF, in Lambda)
        logger().info(
            "job finished",
            extra={
                "job": spec.name,
                "target_date": d.isoformat(),
                "run_id": result.run_id,
                "status": result.status,
                "stats": result.stats,
            },
        )
        emit_metrics(spec.name, result.status, result.stats, outcomes[d], settings)
    return results


def _one_by_one(
    spec: jobs.Job,
    chunk: list[date],
    run_ids: dict[date, uuid.UUID],
    trigger: str,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
    request: RunRequest,
) -> list[DateRun]:
    """The chunk's dates as separate runs (their ledger rows reused), stopping at a failure."""
    fn = spec.load()
    results: list[DateRun] = []
    for index, d in enumerate(chunk):
        outcome = run_one(
            spec,
            fn,
            d,
            trigger=trigger,
            engine=engine,
            settings=settings,
            org_id=org_id,
            request=request,
            run_id=run_ids.get(d),
        )
        results.append(outcome)
        if outcome.status == "failed":
            rest = chunk[index + 1 :]
            _forget(engine, [run_ids[d] for d in rest if d in run_ids])
            results.extend(DateRun(later, "skipped") for later in rest)
            break
    return results


def _forget(engine: Engine, run_ids: list[uuid.UUID]) -> None:
    """Remove the `running` rows the chunk opened for dates that, after all, are not run: a
    sequence of separate runs would never have opened them (a skipped date has no ledger row)."""
    if run_ids:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DELETE FROM job_runs"
                    " WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'running'"
                ),
                {"ids": [str(i) for i in run_ids]},
            )


def _acquire_locks(conn: Connection, job: str, dates: list[date], settings: Settings) -> None:
    """Every (job, date) lock of the chunk, oldest first (the order every batch takes them in,
    so two batches never wait on each other in a cycle), each wait bounded by lock_timeout."""
    key = LOCK_KEY_SQL.format(job=":job", day="d.day")
    take_locks(
        conn,
        settings,
        f"SELECT count(pg_advisory_xact_lock({key})) FROM ("
        " SELECT day FROM unnest(CAST(:days AS date[])) AS x(day) ORDER BY day OFFSET 0) d",
        {"job": job, "days": [d.isoformat() for d in dates]},
        busy=f"{job}: a date of the batch is running elsewhere",
    )
