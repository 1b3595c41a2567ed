"""The job registry, the job_runs ledger, the per-(job, date) lock and the run loop over dates.

Every front door (CLI, Lambda, HTTP refresh) runs jobs through `run()`; nothing else writes
job_runs. One date is one run:

1. take a transaction-scoped advisory lock on (job, date), waiting at most `lock_wait_s`;
   a run that gives up writes nothing (JobAlreadyRunning);
2. mark `running` rows left by dead processes for (job, date) as failed (we hold the lock, so
   no live run owns them), then insert our own `running` row on a separate, committed connection;
3. call the job inside one transaction with a statement timeout;
4. success: the ledger row becomes succeeded/partial in that same transaction, so the outputs and
   their record commit together; failure: the ledger row becomes failed first, then the job
   transaction rolls back, leaving the previous outputs untouched.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from opsmetrics.config import Settings
from opsmetrics.dates import SUNDAY, day_before, days, latest_sunday_before, sundays
from opsmetrics.errors import BadRequest, JobAlreadyRunning

Cadence = Literal["daily", "weekly"]
TRIGGERS = ("schedule", "manual", "http", "backfill")


@dataclass(frozen=True)
class JobSpec:
    name: str
    entry: str  # "module:function", imported only when the job runs
    cadence: Cadence
    summary: str


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "daily-territory-metrics",
            "opsmetrics.territory.daily:compute",
            "daily",
            "per territory: bookings, rates and utilization over the 7 days ending on the date",
        ),
        JobSpec(
            "weekly-hiring-triggers",
            "opsmetrics.territory.weekly:compute",
            "weekly",
            "per territory: consecutive overloaded weeks, then hiring triggers for the Sunday",
        ),
        JobSpec(
            "daily-trend-aggregation",
            "opsmetrics.trends.daily:compute",
            "daily",
            "per organization: topic, sentiment, escalation and hotspot figures for the UTC day",
        ),
    )
}


@dataclass
class JobContext:
    """What a job function receives. `conn` is inside the run's transaction: do not commit it."""

    conn: Connection
    target_date: date
    org_id: uuid.UUID | None
    run_id: uuid.UUID
    trigger: str
    settings: Settings


@dataclass
class AfterCommit:
    """What a job's post-commit step reports (merged into the run's stats and result)."""

    stats: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    failed_orgs: list[str] = field(default_factory=list)  # non-empty makes the run `partial`


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

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.runs}
        for worst in ("failed", "partial"):
            if worst in statuses:
                return worst
        return "succeeded"

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "trigger": self.trigger,
            "org_id": self.org_id,
            "status": self.status,
            "runs": [r.to_dict() for r in self.runs],
        }


def job_spec(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        known = ", ".join(JOBS)
        raise BadRequest(f"unknown job {name!r}; known jobs: {known}") from None


def default_date(spec: JobSpec, today: date) -> date:
    """CONTRACT §3: daily jobs target yesterday, the weekly job the latest Sunday before today."""
    return latest_sunday_before(today) if spec.cadence == "weekly" else day_before(today)


def target_dates(
    job: str,
    *,
    today: date,
    on: date | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[date]:
    """The dates a request names, in order. Raises BadRequest for anything ambiguous or wrong."""
    spec = job_spec(job)
    if on is not None and (start is not None or end is not None):
        raise BadRequest("give either a date or a from/to range, not both")
    if (start is None) != (end is None):
        raise BadRequest("a range needs both from and to")
    if start is not None and end is not None:
        picked = list(sundays(start, end) if spec.cadence == "weekly" else days(start, end))
        if not picked:
            raise BadRequest(f"{job} runs for Sundays and {start}..{end} contains none")
        return picked
    target = on if on is not None else default_date(spec, today)
    if spec.cadence == "weekly" and target.weekday() != SUNDAY:
        raise BadRequest(
            f"{job} takes a week-ending Sunday; {target} is a {target:%A}"
            f" (the Sunday before it is {latest_sunday_before(target)})"
        )
    return [target]


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


def load_job(spec: JobSpec) -> JobFunction:
    module_name, _, attr = spec.entry.partition(":")
    fn: JobFunction = getattr(importlib.import_module(module_name), attr)
    return fn


def run(
    job: str,
    dates: Sequence[date],
    *,
    trigger: str,
    engine: Engine,
    settings: Settings | None = None,
    org_id: str | uuid.UUID | None = None,
    on_progress: Callable[[int, int, DateRun], None] | None = None,
) -> RunSummary:
    """Run `job` for each date in order. Validates everything before writing anything.

    A failed date stops the loop (later dates, such as the next weeks' counters, would build on
    it); the dates not reached are reported as `skipped`. A partial date does not stop it.
    """
    spec = job_spec(job)
    if trigger not in TRIGGERS:
        raise BadRequest(f"unknown trigger {trigger!r}; one of {', '.join(TRIGGERS)}")
    if not dates:
        raise BadRequest("no dates to run")
    if spec.cadence == "weekly":
        for d in dates:
            if d.weekday() != SUNDAY:
                raise BadRequest(f"{job} takes week-ending Sundays; {d} is a {d:%A}")
    org = parse_org_id(org_id)
    if org is not None:
        check_org_exists(engine, org)
    settings = settings or Settings.from_env()
    fn = load_job(spec)

    summary = RunSummary(job, trigger, str(org) if org else None, [])
    ordered = sorted(dates)
    for index, target in enumerate(ordered):
        outcome = run_one(
            spec, fn, target, trigger=trigger, engine=engine, settings=settings, org_id=org
        )
        summary.runs.append(outcome)
        if on_progress is not None:
            on_progress(index + 1, len(ordered), outcome)
        if outcome.status == "failed":
            summary.runs.extend(DateRun(d, "skipped") for d in ordered[index + 1 :])
            break
    return summary


def _lock_keys(job: str, target: date) -> dict[str, Any]:
    return {"job": f"opsmetrics:{job}", "day": (target - date(2000, 1, 1)).days}


def run_one(
    spec: JobSpec,
    fn: JobFunction,
    target: date,
    *,
    trigger: str,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
) -> DateRun:
    from opsmetrics.observability import logger

    log = logger()
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.begin()
        try:
            _acquire_lock(conn, spec.name, target, settings.lock_wait_s)
        except JobAlreadyRunning:
            conn.rollback()
            raise
        waited_ms = round((time.perf_counter() - started) * 1000)
        run_id = _open_ledger_row(engine, spec.name, target, trigger, org_id)
        log.append_keys(job=spec.name, target_date=target.isoformat(), run_id=str(run_id))
        try:
            conn.execute(
                text("SELECT set_config('statement_timeout', :ms, true)"),
                {"ms": str(settings.statement_timeout_ms)},
            )
            ctx = JobContext(conn, target, org_id, run_id, trigger, settings)
            outcome = fn(ctx)
            duration_ms = round((time.perf_counter() - started) * 1000)
            status = "partial" if outcome.failed_orgs else "succeeded"
            stats = {
                **outcome.stats,
                "rows_written": outcome.rows_written,
                "bad_rows": outcome.bad_rows,
                "duration_ms": duration_ms,
                "lock_wait_ms": waited_ms,
            }
            if org_id is not None:
                stats["org_id"] = str(org_id)
            if outcome.failed_orgs:
                stats["failed_organizations"] = outcome.failed_orgs
            _close_ledger_row(conn, run_id, status, stats, None)
            conn.commit()
            if outcome.after_commit is not None:
                status = _run_after_commit(engine, run_id, outcome, status, stats)
        except BaseException as exc:
            # BaseException too: Ctrl-C or a Lambda shutdown must not leave a `running` row.
            error = "interrupted" if not isinstance(exc, Exception) else _one_line(exc)
            duration_ms = round((time.perf_counter() - started) * 1000)
            stats = {"duration_ms": duration_ms, "lock_wait_ms": waited_ms}
            if org_id is not None:
                stats["org_id"] = str(org_id)
            # Record the failure before the rollback releases the lock (see module docstring).
            with engine.begin() as ledger:
                _close_ledger_row(ledger, run_id, "failed", stats, error)
            conn.rollback()
            log.exception("job failed", extra={"error": error})
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
    return DateRun(target, status, str(run_id), stats, outcome.result, None)


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
        error = f"after commit: {_one_line(exc)}"
        logger().exception("post-commit step failed", extra={"error": error})
        extra = AfterCommit()
    stats.update(extra.stats)
    outcome.result.update(extra.result)
    outcome.failed_orgs.extend(extra.failed_orgs)
    if extra.failed_orgs or error:
        status = "partial"
    if outcome.failed_orgs:
        stats["failed_organizations"] = outcome.failed_orgs
    with engine.begin() as ledger:
        _close_ledger_row(ledger, run_id, status, stats, error)
    return status


def _acquire_lock(conn: Connection, job: str, target: date, wait_s: int) -> None:
    # lock_timeout bounds the wait; it is reset at once so the job's own statements are not bound.
    conn.execute(
        text("SELECT set_config('lock_timeout', :ms, true)"),
        {"ms": str(max(wait_s, 0) * 1000 or 1)},
    )
    try:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:job), :day)"), _lock_keys(job, target)
        )
    except (OperationalError, DBAPIError) as exc:
        if "lock timeout" in str(exc).lower() or "55P03" in str(exc):
            raise JobAlreadyRunning(
                f"{job} for {target} is already running elsewhere (waited {wait_s}s); "
                "try again when it has finished"
            ) from None
        raise
    conn.execute(text("SELECT set_config('lock_timeout', '0', true)"))


def _open_ledger_row(
    engine: Engine, job: str, target: date, trigger: str, org_id: uuid.UUID | None
) -> uuid.UUID:
    run_id = uuid.uuid4()
    with engine.begin() as ledger:
        ledger.execute(
            text(
                "UPDATE job_runs SET status = 'failed', finished_at = now(),"
                " error = 'abandoned: the process ended while running'"
                " WHERE job = :job AND target_date = :day AND status = 'running'"
            ),
            {"job": job, "day": target},
        )
        ledger.execute(
            text(
                "INSERT INTO job_runs (id, job, target_date, trigger, status, started_at, stats)"
                " VALUES (:id, :job, :day, :trigger, 'running', now(), CAST(:stats AS jsonb))"
            ),
            {
                "id": run_id,
                "job": job,
                "day": target,
                "trigger": trigger,
                "stats": json.dumps({"org_id": str(org_id)} if org_id else {}),
            },
        )
    return run_id


def _close_ledger_row(
    conn: Connection, run_id: uuid.UUID, status: str, stats: dict[str, Any], error: str | None
) -> None:
    conn.execute(
        text(
            "UPDATE job_runs SET status = :status, finished_at = clock_timestamp(),"
            " stats = CAST(:stats AS jsonb), error = :error WHERE id = :id"
        ),
        {"status": status, "stats": json.dumps(stats, default=str), "error": error, "id": run_id},
    )


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    first = text_[0] if text_ else ""
    return f"{type(exc).__name__}: {first}"[:500]


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
