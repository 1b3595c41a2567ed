"""The run loop over dates: lock, ledger row, transaction, statement timeout, after-commit step.

Every front door (CLI, Lambda, HTTP) runs jobs through `run()`; nothing else writes job_runs.
What a job is lives in `jobs.py`; the job_runs SQL in `ledger.py` (writes) and
`ledger_queries.py` (reads); one date's run in `one_date.py`. One date is one run:

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

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from opsmetrics import batch, jobs, ledger, ledger_queries
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest
from opsmetrics.ledger import RunRequest
from opsmetrics.one_date import run_one
from opsmetrics.orgs import check_org_exists, parse_org_id
from opsmetrics.run_results import DateRun, RunSummary

TRIGGERS = ("schedule", "manual", "http", "backfill")


def today_utc() -> date:
    return datetime.now(UTC).date()


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
        planned.update(ledger_queries.due(conn, spec, max(dates), horizon_days, org_id))
    if spec.previous(max(dates)) is not None:
        earliest = ledger_queries.earliest_target(conn, spec.name, org_id)
        if earliest is not None:
            for target in sorted(planned):
                before = list(jobs.chain(spec, target, earliest))
                done = ledger_queries.succeeded(conn, spec.name, before, org_id)
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
