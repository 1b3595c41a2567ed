"""What each route does, framework-neutral: read a report, recompute then read, health, OpenAPI.

Handlers raise the exceptions of opsmetrics.errors; routes.answer_route turns them into answers.
The organization always comes from the caller's identity (`call.org_id`), never a parameter.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date
from email.utils import format_datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import text

from opsmetrics.dates import check_sunday
from opsmetrics.errors import BadRequest, Forbidden
from opsmetrics.reports import caching, http_runs
from opsmetrics.reports.formats import CONTENT_TYPES, choose_format
from opsmetrics.reports.messages import Response
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.reports.problems import RefreshFailed

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.config import HttpSettings
    from opsmetrics.reports.route_model import Call, HandlerDeps

VARY = "Accept, Authorization"


def health(call: Call, deps: HandlerDeps) -> Response:
    try:
        with deps.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        status, body = 200, {"status": "ok", "database": "ok"}
    except Exception:
        from opsmetrics.observability import logger

        logger().exception("health check: database unreachable")
        status, body = 503, {"status": "unavailable", "database": "unreachable"}
    return Response(
        status,
        json.dumps(body),
        {"Content-Type": CONTENT_TYPES["json"], "Cache-Control": caching.NO_STORE},
    )


def get_report(call: Call, deps: HandlerDeps) -> Response:
    """Read a report; a process reuses a rendered answer while the outputs are unchanged."""
    from opsmetrics.reports.registry import build

    name = _report_name(call)
    today = deps.today()
    params = report_params(name, call.values, call.org_id, today=today)
    fmt = choose_format(call.values.get("format"), call.request.header("accept"))
    cache = answers(deps.settings().http)
    # `today` is part of the key: `stale` (and the default date) change with it, not only with
    # the outputs' version (the job_runs ledger, which moves with `as_of`).
    key = (call.route.path, call.org_id, fmt, today, tuple(sorted(call.values.items())))
    with deps.engine().connect() as conn:
        version = caching.outputs_version(conn, call.org_id) if cache.enabled else ()
        kept = cache.get(key, version)
        if kept is not None:
            return kept
        report = build(conn, name, params)
    response = report_response(call, report, caching.REPORT_CACHE_CONTROL, fmt)
    response.headers["ETag"] = caching.etag(response.body, response.headers["Content-Type"])
    cache.put(key, version, response)
    return response


@cache
def answers(settings: HttpSettings) -> caching.AnswerCache:
    """This process's answer cache, sized by the front door's settings on first use."""
    return caching.AnswerCache.for_settings(settings)


def refresh_report(call: Call, deps: HandlerDeps) -> Response:
    """Recompute the caller's organization for one date with the job's own code, then read."""
    from opsmetrics import jobs
    from opsmetrics.reports.registry import REPORT_JOBS

    name = _report_name(call)
    job = REPORT_JOBS[name]
    today = deps.today()
    try:
        target = jobs.requested_dates(job, today=today, on=call.values["date"])[0]
    except BadRequest as exc:
        raise BadRequest(f"date: {exc}") from None
    engine = deps.engine()
    _check_org_known(engine, call.org_id)
    summary = http_runs.run(
        job,
        [target],
        engine=engine,
        settings=deps.settings(),
        org_id=call.org_id,
        today=today,
    )
    # The weekly chain may have run earlier missing Sundays first; the target's run is last.
    outcome = summary.runs[-1]
    if not summary.ok:
        bad = next(r for r in summary.runs if r.status != "succeeded")
        raise RefreshFailed(
            f"recomputing {job} for {bad.target_date} ended {bad.status} (job run {bad.run_id});"
            " the previous figures stand"
        )
    params = report_params(name, {**call.values, "date": target}, call.org_id, today=today)
    fmt = choose_format(call.values.get("format"), call.request.header("accept"))
    response = report_response(call, _read(name, params, deps), caching.NO_STORE, fmt)
    response.headers["X-Job-Run-Id"] = str(outcome.run_id)
    response.headers["X-Job-Status"] = outcome.status
    return response


# --- helpers -------------------------------------------------------------------------------------


def _report_name(call: Call) -> str:
    assert call.route.report is not None, "report handlers serve report routes only"
    return call.route.report


def _read(name: str, params: ReportParams, deps: HandlerDeps) -> Report:
    from opsmetrics.reports.registry import build

    with deps.engine().connect() as conn:
        return build(conn, name, params)


def _check_org_known(engine: Engine, org_id: uuid.UUID) -> None:
    from opsmetrics.orgs import org_exists

    if not org_exists(engine, org_id):
        raise Forbidden(f"organization {org_id} (from the token) is not known here")


def report_params(
    name: str, values: dict[str, Any], org_id: uuid.UUID, *, today: date | None = None
) -> ReportParams:
    """Checked query values -> the builder's parameters, with the caller's organization and the
    door's `today` (UTC).

    The builders check how the values combine (a trends range, a cursor's date); only the rule
    that weekly reports take a Sunday is checked here, so that the message names `date`.
    """
    if org_id is None:  # "every organization" is the command line's privilege only
        raise RuntimeError("a report over HTTP must name the caller's organization")
    day: date | None = values.get("date")
    if day is not None and _is_weekly(name):
        check_sunday(day, f"date must be a week-ending Sunday for {name}")
    return ReportParams(
        org_id=org_id,
        date=day,
        date_from=values.get("from"),
        date_to=values.get("to"),
        region=values.get("region"),
        limit=values.get("limit"),
        cursor=values.get("cursor"),
        include_low_volume=bool(values.get("include_low_volume")),
        today=today,
    )


def _is_weekly(name: str) -> bool:
    from opsmetrics.jobs import JOBS
    from opsmetrics.reports.registry import REPORT_JOBS

    job = REPORT_JOBS.get(name)
    return job is not None and JOBS[job].weekly


def report_response(call: Call, report: Report, cache_control: str, fmt: str) -> Response:
    from opsmetrics.reports.render import render_csv, render_json

    headers = {
        "Content-Type": CONTENT_TYPES[fmt],
        "Cache-Control": cache_control,
        "Vary": VARY,
    }
    if report.date is not None:
        # Which date was used, also when the caller gave none (CSV has nowhere else to say it).
        headers["X-Report-Date"] = report.date.isoformat()
    if report.freshness is not None:
        # When the run behind the figures finished (JSON: `as_of`), in every format.
        headers["Last-Modified"] = format_datetime(report.freshness.as_of.astimezone(UTC), True)
    next_cursor = report.extra.get("next_cursor")
    if next_cursor:
        headers["X-Next-Cursor"] = str(next_cursor)
        headers["Link"] = f'<{_next_link(call, report, str(next_cursor))}>; rel="next"'
    body = render_csv(report) if fmt == "csv" else render_json(report, compact=True)
    return Response(200, body, headers)


def _next_link(call: Call, report: Report, cursor: str) -> str:
    """The same GET with the next cursor, pinned to the page's date (a refresh's next page is a
    plain GET)."""
    kept = [
        (k, v)
        for k, values in call.request.query.items()
        if k not in ("cursor", "date")
        for v in values
        if v.strip()
    ]
    if report.date is not None:
        kept.insert(0, ("date", report.date.isoformat()))
    path = call.request.path.removesuffix("/refresh")
    return f"{path}?{urlencode([*kept, ('cursor', cursor)])}"
