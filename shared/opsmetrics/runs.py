"""The run loop over dates: lock, ledger row, transaction, statement timeout, after-commit step.

Every front door (CLI, Lambda, HTTP) runs jobs through `run()`; nothing else writes job_runs.
What a job is lives in `jobs.py`; the job_runs SQL in `ledger.py`. One date is one run:

1. take a transaction-scoped advisory lock on (job, date), waiting at most `lock_wait_s`;
   a run that gives up writes nothing (JobAlreadyRunning);
2. close abandoned `running` rows (their lock is free), then commit our own `running` row on a
   separate connection;
3. call the job inside one transaction with a statement timeout;
4. success: the ledger row becomes succeeded/partial in that same transaction, so the outputs and
   their record commit together; failure: the ledger row becomes failed first, then the job
   transaction rolls back, leaving the previous outputs untouched.

Before the loop, `plan()` turns the request into the dates to run (spec §7): due dates first
when catching up, and for the weekly job the missing earlier Sundays its counters build on.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from opsmetrics import jobs, ledger
from opsmetrics.config import Settings
from opsmetrics.db import driver_connection, fatal_error, ledger_engine, read_timeout
from opsmetrics.errors import BadRequest, JobAlreadyRunning, interrupted, one_line, sqlstate
from opsmetrics.ledger import LOCK_KEY_SQL, RunRequest

TRIGGERS = ("schedule", "manual", "http", "backfill")


@dataclass
class JobContext:
    """What a job function receives. `conn` is inside the run's transaction: do not commit it."""

    conn: Connection
    target_date: date
    org_id: uuid.UUID | None
    run_id: uuid.UUID
    trigger: str
    settings: Settings
    job: str = ""  # the job's name, for a job that asks the ledger about its own runs


@dataclass
class AfterCommit:
    """What a job's post-commit step reports (merged into the run's stats and result)."""

    stats: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    failed_orgs: list[str] = field(default_factory=list)  # non-empty makes the run `partial`
    error: str | None = None  # why, for job_runs.error (the log is not where people look)


@dataclass
class JobOutcome:
    """What a job function returns."""

    stats: dict[str, Any]  # JSON-able counts, stored in job_runs.stats
    rows_written: int = 0
    bad_rows: int = 0
    failed_orgs: list[str] = field(default_factory=list)  # non-empty makes the run `partial`
    result: dict[str, Any] = field(default_factory=dict)  # JSON-able payload for callers
    # Side effects outside the database (notifications) run only once the outputs are
    # committed, so nobody is told about figures that were rolled back.
    after_commit: Callable[[], AfterCommit] | None = None

    @property
    def status(self) -> str:
        return "partial" if self.failed_orgs else "succeeded"

    def ledger_stats(
        self, duration_ms: int, waited_ms: int, org_id: uuid.UUID | None, **more: Any
    ) -> dict[str, Any]:
        """The run's job_runs.stats: the job's own, then the counts every run records."""
        stats = {
            **self.stats,
            "rows_written": self.rows_written,
            "bad_rows": self.bad_rows,
            "duration_ms": duration_ms,
            "lock_wait_ms": waited_ms,
            **more,
        }
        if org_id is not None:
            stats["org_id"] = str(org_id)
        if self.failed_orgs:
            stats["failed_organizations"] = self.failed_orgs
        return stats

    error: str | None = None  # a partial run's cause, for job_runs.error


JobFunction = Callable[[JobContext], JobOutcome]


@dataclass
class DateRun:
    target_date: date
    status: str  # succeeded | partial | failed | skipped
    run_id: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["target_date"] = self.target_date.isoformat()
        return out


@dataclass
class RunSummary:
    job: str
    trigger: str
    org_id: str | None
    runs: list[DateRun]
    request: RunRequest = field(default_factory=lambda: RunRequest("single"))

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.runs}
        for worst in ("failed", "partial"):
            if worst in statuses:
                return worst
        if "skipped" in statuses:  # stopped before its deadline: the rest stays due
            return "partial"
        return "succeeded"

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "trigger": self.trigger,
            "org_id": self.org_id,
            "request_id": str(self.request.id),
            "request_kind": self.request.kind,
            "status": self.status,
            "runs": [r.to_dict() for r in self.runs],
        }


def today_utc() -> date:
    return datetime.now(UTC).date()


def parse_org_id(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise BadRequest(f"organization id must be a UUID, got {value!r}") from None


def org_exists(engine: Engine, org_id: uuid.UUID) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM organizations WHERE id = :id"), {"id": org_id}
        ).first()
    return found is not None


def check_org_exists(engine: Engine, org_id: uuid.UUID) -> None:
    if not org_exists(engine, org_id):
        raise BadRequest(f"unknown organization {org_id}")


def plan(
    conn: Connection,
    spec: jobs.Job,
    dates: Sequence[date],
    *,
    org_id: uuid.UUID | None,
    catch_up: bool,
    horizon_days: int,
) -> list[date]:
    """The dates a request runs, oldest first (spec §7).

    - catching up: the job's due dates before the latest requested date come first;
    - a job whose run builds on its previous date (weekly S on S-7): where that date lies after
      the job's earliest target date and has no succeeded run, it is computed first, and so on
      back, at most jobs.MAX_CHAIN_WEEKS.
    """
    planned = set(dates)
    if catch_up:
        planned.update(ledger.due(conn, spec, max(dates), horizon_days, org_id))
    if spec.previous(max(dates)) is not None:
        earliest = ledger.earliest_target(conn, spec.name, org_id)
        if earliest is not None:
            for target in sorted(planned):
                before = list(jobs.chain(spec, target, earliest))
                done = ledger.succeeded(conn, spec.name, before, org_id)
                for previous in before:  # newest first: stop at the first one that is done
                    if previous in done or previous in planned:
                        break
                    planned.add(previous)
    return sorted(planned)


def run(
    job: str,
    dates: Sequence[date],
    *,
    trigger: str,
    engine: Engine,
    settings: Settings | None = None,
    org_id: str | uuid.UUID | None = None,
    on_progress: Callable[[int, int, DateRun], None] | None = None,
    catch_up: bool = False,
    request: RunRequest | None = None,
    today: date | None = None,
    time_left_s: Callable[[], float] | None = None,
) -> RunSummary:
    """Run `job` for each date in order (after `plan()`). Validates everything before writing.

    A failed date stops the loop (later dates, such as the next weeks' counters, would build on
    it); the dates not reached are reported as `skipped`. A partial date does not stop it. With
    `time_left_s` (a Lambda's remaining time), no date starts with less than
    settings.min_time_left_s to go: the dates not reached are `skipped` and stay due.
    """
    spec = jobs.job(job)
    if trigger not in TRIGGERS:
        raise BadRequest(f"unknown trigger {trigger!r}; one of {', '.join(TRIGGERS)}")
    if not dates:
        raise BadRequest("no dates to run")
    today = today or today_utc()
    for d in dates:
        spec.check(d, today)
    org = parse_org_id(org_id)
    if org is not None:
        check_org_exists(engine, org)
    settings = settings or Settings.from_env()
    if request is None:
        kind: ledger.RequestKind = "single" if len(dates) == 1 else "backfill"
        request = RunRequest("catch-up" if catch_up else kind)
    fn = spec.load()
    with engine.connect() as conn:
        ordered = plan(
            conn,
            spec,
            dates,
            org_id=org,
            catch_up=catch_up,
            horizon_days=settings.catchup_days,
        )

    summary = RunSummary(job, trigger, str(org) if org else None, [], request)
    from opsmetrics import batch  # imports this module: here, not at the top

    if batch.applies(spec, ordered):  # many dates of a daily job: one pass per chunk
        summary.runs = batch.run_dates(
            spec,
            ordered,
            trigger=trigger,
            engine=engine,
            settings=settings,
            org_id=org,
            request=request,
            on_progress=on_progress,
            time_left_s=time_left_s,
        )
        return summary
    for index, target in enumerate(ordered):
        if time_left_s is not None and time_left_s() < settings.min_time_left_s:
            summary.runs.extend(DateRun(d, "skipped") for d in ordered[index:])
            break
        outcome = run_one(
            spec,
            fn,
            target,
            trigger=trigger,
            engine=engine,
            settings=settings,
            org_id=org,
            request=request,
        )
        summary.runs.append(outcome)
        if on_progress is not None:
            on_progress(index + 1, len(ordered), outcome)
        if outcome.status == "failed":
            summary.runs.extend(DateRun(d, "skipped") for d in ordered[index + 1 :])
            break
    return summary


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
            _acquire_lock(conn, spec.name, target, settings)
            if spec.recomputes_later_dates:
                # Its runs rewrite later dates' rows: two at once (an operator's rerun of an
                # old Sunday, Monday's tick) would each count from the other's old figures.
                _acquire_lock(conn, spec.name, None, settings)
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
            _emit_metrics(spec.name, "failed", stats, JobOutcome(stats={}))
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
    _emit_metrics(spec.name, status, stats, outcome)
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


# A failure record is retried on a fresh connection this many times, this long apart (seconds):
# a connection cut or a server restart usually heals within a few seconds. If every attempt
# fails, the row stays `running` with its lock free, and the next run of any job, or
# `opsmetrics status`, closes it as abandoned (ledger.sweep_abandoned).
FAILURE_RECORD_BACKOFF_S = (0.0, 0.5, 2.0)


def record_failure(engine: Engine, run_id: uuid.UUID, stats: dict[str, Any], error: str) -> bool:
    """Close the run's row as failed through the ledger's own pool; whether it was written."""
    from opsmetrics.observability import logger

    writer = ledger_engine(engine)
    for pause in FAILURE_RECORD_BACKOFF_S:
        time.sleep(pause)
        try:
            with writer.begin() as record:
                ledger.close_run(record, run_id, "failed", stats, error)
            return True
        except Exception as exc:  # pg8000 lets some socket errors through unwrapped
            logger().warning("could not record the failure yet", extra={"error": one_line(exc)})
            writer.dispose()  # the next attempt opens a fresh connection
    return False


def rollback_quietly(conn: Connection) -> None:
    """Roll back the job's transaction; on a lost connection there is nothing left to undo (the
    server has rolled it back and released the lock)."""
    try:
        conn.rollback()
    except Exception:  # a DBAPIError, or a socket error pg8000 did not wrap
        conn.invalidate()


# How often the server checks, while a job's statement runs, that the client is still there (a
# killed process): it then stops the statement, rolls back and releases the lock (PostgreSQL 14+).
CLIENT_CHECK_MS = 5000


def bound_session(conn: Connection, settings: Settings) -> None:
    """The job transaction's own limits (SET LOCAL, ended with the transaction, so nothing leaks
    to the pool or pins an RDS Proxy connection beyond it): each statement's run time, each lock
    wait, how long the session may sit idle inside the transaction (a client gone silent) before
    the server ends it and releases the run's lock, and how soon a vanished client is noticed."""
    conn.execute(
        text(
            "SELECT set_config('statement_timeout', :statement, true),"
            " set_config('lock_timeout', :lock, true),"
            " set_config('idle_in_transaction_session_timeout', :idle, true),"
            " set_config('client_connection_check_interval', :check, true)"
        ),
        {
            "statement": str(settings.statement_timeout_ms),
            "lock": str(statement_lock_ms(settings)),
            "idle": str(max(settings.idle_in_transaction_timeout_s, 1) * 1000),
            "check": str(CLIENT_CHECK_MS),
        },
    )


def _acquire_lock(conn: Connection, job: str, target: date | None, settings: Settings) -> None:
    """The (job, date) lock; with no date, the whole job's (ledger.JOB_LOCK_DAY)."""
    what = f"for {target}" if target else "(another date of it, whose run rewrites later dates)"
    waited = f" (waited {settings.lock_wait_s}s)" if settings.lock_wait_s else ""
    take_locks(
        conn,
        settings,
        f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL.format(job=':job', day=':day')})",
        {"job": job, "day": target or ledger.JOB_LOCK_DAY},
        busy=f"{job} {what} is already running elsewhere{waited}; try again when it has finished",
    )


def take_locks(
    conn: Connection, settings: Settings, statement: str, params: dict[str, Any], *, busy: str
) -> None:
    """Run `statement` (it takes a run's advisory locks), waiting at most settings.lock_wait_s
    (0: not at all), else JobAlreadyRunning(busy); then every later statement of the job waits
    at most statement_lock_ms for a lock."""
    conn.execute(
        text("SELECT set_config('lock_timeout', :ms, true)"),
        {"ms": str(settings.lock_wait_s * 1000 or 1)},
    )
    try:
        conn.execute(text(statement), params)
    except DBAPIError as exc:
        if sqlstate(exc)[0] == "55P03":  # lock_not_available: lock_timeout ran out
            raise JobAlreadyRunning(busy) from None
        raise
    conn.execute(
        text("SELECT set_config('lock_timeout', :ms, true)"),
        {"ms": str(statement_lock_ms(settings))},
    )


def statement_lock_ms(settings: Settings) -> int:
    """How long a job's statement may wait for a lock: the run-lock wait, or when runs do not
    wait for each other (HTTP), the statement timeout."""
    return settings.lock_wait_s * 1000 or settings.statement_timeout_ms


def _emit_metrics(job: str, status: str, stats: dict[str, Any], outcome: JobOutcome) -> None:
    """EMF metrics per job run, in Lambda only: elsewhere nothing would flush them."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
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
