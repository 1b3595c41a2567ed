"""The job routes (spec §7): GET /jobs/status, GET /jobs/runs, POST /jobs/{job}/runs.

Thin: parse, call `freshness`, `history` or `runs`, shape the answer. Who sees what:

- a token with an `org_id` claim sees its own organization's runs and the runs that covered every
  organization, and runs jobs for its own organization only; `org` may name only that one;
- a token without one (an operator) sees every run and runs jobs for every organization, or for
  the one `org` names.

Answers are never cached (`Cache-Control: no-store`): the ledger changes by the second.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from opsmetrics.errors import BadRequest, Forbidden, JobAlreadyRunning, NotFound
from opsmetrics.history import DEFAULT_LIMIT, STATUSES
from opsmetrics.reports import caching, http_runs
from opsmetrics.reports.formats import CONTENT_TYPES, choose_format
from opsmetrics.reports.messages import Response
from opsmetrics.reports.params import Param
from opsmetrics.reports.problems import error_response

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.reports.route_model import Call, HandlerDeps
    from opsmetrics.run_results import RunSummary


def _job_names() -> tuple[str, ...]:
    from opsmetrics.jobs import JOBS

    return tuple(JOBS)


ORG = Param(
    "org",
    "string",
    "an organization id: an operator token's filter; an organization's token may name only its own",
)
STATUS_QUERY = (ORG,)
RUNS_QUERY = (
    Param("job", "choice", "only this job", choices=_job_names()),
    Param("status", "choice", "only runs in this status", choices=STATUSES),
    Param("from", "date", "target dates on or after this one"),
    Param("to", "date", "target dates on or before this one"),
    ORG,
    Param("request", "string", "the runs of one request (its request_id)"),
    Param("limit", "integer", "at most this many runs, newest first", 1, 1000, DEFAULT_LIMIT),
    Param(
        "format",
        "choice",
        "json or csv; without it the Accept header decides",
        choices=("json", "csv"),
    ),
)
RUN_QUERY = (
    Param("date", "date", "one target date (default: the job's usual target for today)"),
    Param("from", "date", "first date of a range (with to; at most 92 days)"),
    Param("to", "date", "last date of a range"),
    Param(
        "catch_up",
        "boolean",
        "run the due dates within the catch-up horizon first, then the usual target",
        default=False,
    ),
    ORG,
)


def get_status(call: Call, deps: HandlerDeps) -> Response:
    from opsmetrics import freshness
    from opsmetrics.ledger_views import to_json

    engine = deps.engine()
    org = _scope(call, engine)
    found = freshness.status(
        engine,
        today=deps.today(),
        horizon_days=deps.settings().catchup_days,
        org_id=org,
    )
    # 200 whether healthy or not: the read worked; `healthy` in the body is the verdict.
    return _answer(to_json(found, compact=True), "json")


def list_runs(call: Call, deps: HandlerDeps) -> Response:
    from opsmetrics import history
    from opsmetrics.ledger_views import runs_csv, to_json

    v = call.values
    wanted = history.run_filter(
        job=v["job"],
        status=v["status"],
        start=v["from"],
        end=v["to"],
        request_id=v["request"],
        limit=v["limit"],
    )
    engine = deps.engine()
    wanted = replace(wanted, org_id=_scope(call, engine))
    with engine.connect() as conn:
        page = history.list_runs(conn, wanted)
    fmt = choose_format(v["format"], call.request.header("accept"))
    body = runs_csv(page) if fmt == "csv" else to_json(page, compact=True)
    return _answer(body, fmt)


def run_job(call: Call, deps: HandlerDeps) -> Response:
    from opsmetrics import jobs
    from opsmetrics.ledger import RequestKind, RunRequest

    name = call.path.get("job", "")
    if name not in jobs.JOBS:
        raise NotFound(f"unknown job {name[:60]!r}; known jobs: {', '.join(jobs.JOBS)}")
    v = call.values
    if v["catch_up"] and (v["date"] or v["from"] or v["to"]):
        raise BadRequest("catch_up runs the due dates and the usual target: give no date or range")
    today = deps.today()
    dates = jobs.requested_dates(
        name,
        today=today,
        on=v["date"],
        start=v["from"],
        end=v["to"],
        max_dates=jobs.MAX_REQUEST_DAYS,
    )
    engine = deps.engine()
    org = _scope(call, engine)
    kind: RequestKind = "catch-up" if v["catch_up"] else ("backfill" if v["from"] else "single")
    request = RunRequest(kind)
    try:
        summary = http_runs.run(
            name,
            dates,
            engine=engine,
            settings=deps.settings(),
            org_id=org,
            catch_up=v["catch_up"],
            request=request,
            today=today,
        )
    except JobAlreadyRunning as exc:
        # Earlier dates of this request may have run: say where to find them.
        raise JobAlreadyRunning(
            f"{exc} (this request's runs: GET /jobs/runs?request={request.id})"
        ) from None
    return _summary_answer(summary)


# --- helpers -------------------------------------------------------------------------------------


def _scope(call: Call, engine: Engine) -> uuid.UUID | None:
    """The organization whose runs the caller sees and runs (None: every organization)."""
    from opsmetrics.history import parse_uuid
    from opsmetrics.orgs import check_org_exists, org_exists

    assert call.identity is not None, "job routes always have an identity"
    mine = call.identity.org_id
    asked = parse_uuid(call.values.get("org"), "org")
    if mine is None:  # an operator: every organization, or the one asked for
        if asked is not None:
            check_org_exists(engine, asked)
        return asked
    if asked is not None and asked != mine:
        raise Forbidden(f"org: this token is for organization {mine} and sees only its own")
    if not org_exists(engine, mine):
        raise Forbidden(f"organization {mine} (from the token) is not known here")
    return mine


def _summary_answer(summary: RunSummary) -> Response:
    """200 with the summary; a date that failed (or partial: some organizations failed) makes it
    a 500 that still carries the summary. Dates only `skipped` for time stay due: 200, status
    partial, and the caller may POST again."""
    from opsmetrics.reports.render import dumps

    body = summary.to_dict()
    bad = [r for r in summary.runs if r.status in ("failed", "partial")]
    if not bad:
        answer = _answer(dumps(body, compact=True), "json")
        answer.headers["X-Job-Status"] = summary.status
        return answer
    first = bad[0]
    # As a refresh's: the cause is in the summary (and the ledger), for those who may read it.
    kept = (
        "the previous figures stand"
        if first.status == "failed"
        else "the organizations that failed keep their previous figures"
    )
    message = (
        f"{summary.job} for {first.target_date} ended {first.status} (job run {first.run_id});"
        f" {kept}"
    )
    answer = error_response(500, message)
    payload = json.loads(answer.body)
    payload["summary"] = body
    answer.body = dumps(payload, compact=True)
    answer.headers["X-Job-Status"] = summary.status
    return answer


def _answer(body: str, fmt: str) -> Response:
    return Response(
        200, body, {"Content-Type": CONTENT_TYPES[fmt], "Cache-Control": caching.NO_STORE}
    )
