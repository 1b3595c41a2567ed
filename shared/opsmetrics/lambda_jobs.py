"""The one function the scheduled-job Lambda handlers call: event -> runs.run -> JSON summary.

Failure policy (so the platform's retries and dead letters take over):

- a run that ends `failed` or `partial` raises JobFailed: the asynchronous invocation fails,
  Lambda retries it (same event, so the same target date) and finally sends it to the
  OnFailure queue, which raises an alarm;
- a bad event raises BadRequest before anything is written. It fails the same way, on purpose: a
  broken schedule Input or a mistyped manual event then reaches the queue and pages someone
  instead of passing unnoticed (its retries are harmless: they write nothing either);
- the same job and date already running elsewhere raises JobAlreadyRunning (retried later).

Heavy modules (SQLAlchemy, the job itself) are imported on the first call, not at import time.
Settings are read once per invocation, here (the front door of every job function), and passed
down: Lambda's environment is fixed for a container, so this is the same as once per container,
and a bad value fails the invocation with its one-line ConfigError instead of the import.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest, JobAlreadyRunning, OpsmetricsError
from opsmetrics.observability import Handler, lambda_entry, logger, metrics

if TYPE_CHECKING:
    from opsmetrics.events import JobRequest
    from opsmetrics.run_results import RunSummary


class JobFailed(OpsmetricsError):
    """The job ran and ended failed or partial; `summary` is the run summary (JSON-able)."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    # The runtime serialises the answer after the work is done; make sure that cannot fail then.
    out: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return out


def failure_message(summary: dict[str, Any]) -> str:
    """One line naming the job, each bad date and why."""
    parts = []
    for run in summary["runs"]:
        if run["status"] == "failed":
            parts.append(f"{run['target_date']} failed ({run['error']})")
        elif run["status"] == "partial":
            orgs = run["stats"].get("failed_organizations", [])
            parts.append(f"{run['target_date']} partial ({len(orgs)} organization(s) failed)")
    skipped = sum(1 for run in summary["runs"] if run["status"] == "skipped")
    if skipped:
        parts.append(f"{skipped} later date(s) skipped")
    return f"{summary['job']} {summary['status']}: " + "; ".join(parts)


def _count_rejected(job: str, settings: Settings) -> None:
    if settings.in_lambda:
        from aws_lambda_powertools.metrics import MetricUnit

        metrics().add_metric(name=f"{job}.rejected_events", unit=MetricUnit.Count, value=1)


def job_handler(job: str) -> Handler:
    """A job function's Lambda handler: Powertools' logging and metrics around one call into
    run_job_event. functions/<folder>/app.py is this for its JOB; `opsmetrics invoke` builds the
    same, without reading the handler files (the package never reaches into functions/)."""

    @lambda_entry(job)
    def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
        return run_job_event(job, event, context)

    return lambda_handler


def run_job_event(job: str, event: Any, context: Any = None) -> dict[str, Any]:
    """Run `job` for the dates `event` names; the run summary, or an exception (see above).

    A scheduled tick first runs the job's due dates (catch-up), and with a Lambda `context` no
    date starts too close to the invocation's timeout: those not reached stay due."""
    from opsmetrics.events import parse_event

    log = logger()
    settings = Settings.from_env()
    try:
        request = parse_event(job, event, datetime.now(UTC).date())
        log.append_keys(**request.describe())
        summary = _run(job, request, context, settings)
    except BadRequest as exc:
        log.error("event refused", extra={"error": str(exc), "event": repr(event)[:500]})
        _count_rejected(job, settings)
        raise
    except JobAlreadyRunning as exc:
        log.warning("job already running", extra={"error": str(exc)})
        raise
    result = _jsonable(summary.to_dict())
    if not summary.ok:
        message = failure_message(result)
        log.error("invocation failed", extra={"job": job, "error": message})
        raise JobFailed(message, result)
    log.info("invocation finished", extra={"job": job, "status": summary.status})
    return result


def _run(job: str, request: JobRequest, context: Any, settings: Settings) -> RunSummary:
    from opsmetrics import runs
    from opsmetrics.db import get_engine
    from opsmetrics.ledger import RequestKind, RunRequest

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    kind: RequestKind = (
        "schedule" if request.catch_up else "backfill" if len(request.dates) > 1 else "single"
    )
    return runs.run(
        job,
        request.dates,
        trigger=request.trigger,
        engine=get_engine(settings),
        settings=settings,
        org_id=request.org_id,
        catch_up=request.catch_up,
        request=RunRequest(kind, tick=request.tick),
        time_left_s=(lambda: remaining() / 1000) if callable(remaining) else None,
    )
