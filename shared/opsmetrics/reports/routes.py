"""The one routing table of the reports HTTP API, and the one function that serves a request.

Both front doors (Powertools in Lambda, functions-framework elsewhere) hand a `Request` to
`dispatch` (or, when their own router already matched, to `serve` with the route) and send back
the `Response`. Order of checks for every route: identity and scope, then parameters, then work;
so a caller without a token learns nothing about parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from opsmetrics.dashboard import pages
from opsmetrics.errors import NotFound, RequestTooLong
from opsmetrics.reports import caching, handlers, job_routes
from opsmetrics.reports.auth import (
    JOBS_READ_SCOPE,
    JOBS_RUN_SCOPE,
    READ_SCOPE,
    REFRESH_SCOPE,
    require_org,
    require_scope,
)
from opsmetrics.reports.messages import Identity, Request, Response
from opsmetrics.reports.params import Param, match_path, parse_params
from opsmetrics.reports.problems import MethodNotAllowed, to_response
from opsmetrics.reports.registry import REPORT_JOBS, REPORTS
from opsmetrics.territory.limits import DEFAULT_WEEKLY_ROWS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.config import Settings


@dataclass(frozen=True)
class Services:
    """What handlers need from the outside world, supplied by each front door."""

    engine: Callable[[], Engine]
    settings: Callable[[], Settings]
    today: Callable[[], date]


@dataclass(frozen=True)
class Call:
    """One matched request: the route, the caller (None on public routes), checked parameters."""

    route: Route
    request: Request
    identity: Identity | None
    values: dict[str, Any]
    path: Mapping[str, str] = field(default_factory=dict)  # path parameters ({job})

    @property
    def org_id(self) -> uuid.UUID:
        """The caller's organization (report routes: `serve` has checked there is one)."""
        assert self.identity is not None, "report routes always have an identity"
        return require_org(self.identity)


Handler = Callable[[Call, Services], Response]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    scope: str | None = None  # None: public
    report: str | None = None  # the report a report route serves


# --- query parameters ---------------------------------------------------------------------------

FORMAT = Param(
    "format",
    "choice",
    "json or csv; without it the Accept header decides, else json",
    choices=("json", "csv"),
)
DATE = Param(
    "date", "date", "report date (default: the latest date with data for your organization)"
)
WEEK = Param(
    "date",
    "date",
    "week-ending Sunday (default: the latest Sunday with data for your organization)",
)
REGION = Param("region", "string", "only territories of this region (any case), e.g. London")
LIMIT = Param("limit", "integer", "territories per page", minimum=1, maximum=1000, default=100)
CURSOR = Param("cursor", "string", "the next_cursor of the previous page")
# Triggers and gaps are not paginated: the most urgent come first and the summary counts them all.
# The maximum keeps an answer far below Lambda's 6 MB response limit (about 0.7 KB per trigger);
# without a limit the report's own default applies (the command line's too).
MOST = Param(
    "limit",
    "integer",
    f"at most this many rows, most urgent first (default {DEFAULT_WEEKLY_ROWS}; the summary"
    " counts all; truncated says if cut)",
    minimum=1,
    maximum=5000,
)
INCLUDE_LOW_VOLUME = Param(
    "include_low_volume", "boolean", "also gaps with fewer than 10 bookings", default=False
)
FROM = Param(
    "from", "date", "first day (alone: 7 days from it; neither: the latest 7 days with data)"
)
TO = Param("to", "date", "last day (alone: the 7 days ending on it)")
TREND_DAY = Param("date", "date", "one day instead of a range")
REFRESH_DATE = Param(
    "date",
    "date",
    "the date to recompute (default: the job's usual target: yesterday, or for the weekly"
    " reports the latest Sunday before today); hiring-triggers and coverage-gaps take a Sunday",
)

REPORT_QUERY: dict[str, tuple[Param, ...]] = {
    "territories": (DATE, REGION, LIMIT, CURSOR),
    "hiring-triggers": (WEEK, REGION, MOST),
    "coverage-gaps": (WEEK, REGION, INCLUDE_LOW_VOLUME, MOST),
    "trends": (FROM, TO, TREND_DAY),
}
# A refresh recomputes one date, then answers as the GET for that date would.
REFRESH_QUERY: dict[str, tuple[Param, ...]] = {
    "territories": (REFRESH_DATE, REGION, LIMIT, CURSOR),
    "hiring-triggers": (REFRESH_DATE, REGION, MOST),
    "coverage-gaps": (REFRESH_DATE, REGION, INCLUDE_LOW_VOLUME, MOST),
    "trends": (REFRESH_DATE,),
}
REPORT_SUMMARIES = {
    "territories": "territory summary and territory rows (paginated)",
    "hiring-triggers": "hiring triggers grouped by region, with counts by severity",
    "coverage-gaps": "coverage gaps, critical first then by rejection rate",
    "trends": "the organization's daily communication trend rows",
}


def _build_table() -> tuple[Route, ...]:
    routes = [
        # The dashboard page and its files: public (the page signs in in the browser and sends
        # the bearer token to the routes below), so API Gateway serves it past the authorizer.
        Route("GET", "/", "dashboard", "the dashboard page (HTML)", pages.index),
        Route(
            "GET",
            "/assets/{file}",
            "dashboard_asset",
            "the dashboard's scripts, style sheet and icon",
            pages.asset,
        ),
        Route("GET", "/health", "health", "liveness and database reachability", handlers.health),
        Route("GET", "/openapi.json", "openapi", "this API's OpenAPI document", handlers.openapi),
    ]
    for name in REPORTS:
        slug = name.replace("-", "_")
        routes.append(
            Route(
                "GET",
                f"/reports/{name}",
                f"get_{slug}",
                f"{name}: {REPORT_SUMMARIES.get(name, name)}",
                handlers.get_report,
                (*REPORT_QUERY.get(name, (DATE,)), FORMAT),
                READ_SCOPE,
                name,
            )
        )
        if name in REPORT_JOBS:
            routes.append(
                Route(
                    "POST",
                    f"/reports/{name}/refresh",
                    f"refresh_{slug}",
                    f"recompute {REPORT_JOBS[name]} for your organization, then answer as"
                    f" GET /reports/{name} would",
                    handlers.refresh_report,
                    (*REFRESH_QUERY.get(name, (REFRESH_DATE,)), FORMAT),
                    REFRESH_SCOPE,
                    name,
                )
            )
    # spec §7: the run ledger and job freshness, for an organization's token (its own
    # organization) or an operator's (no org_id claim: every organization).
    routes += [
        Route(
            "GET",
            "/jobs/status",
            "get_job_status",
            "per job: latest succeeded date, due dates, runs in progress, stale",
            job_routes.get_status,
            job_routes.STATUS_QUERY,
            JOBS_READ_SCOPE,
        ),
        Route(
            "GET",
            "/jobs/runs",
            "list_job_runs",
            "the run ledger, newest first, filtered",
            job_routes.list_runs,
            job_routes.RUNS_QUERY,
            JOBS_READ_SCOPE,
        ),
        Route(
            "POST",
            "/jobs/{job}/runs",
            "run_job",
            "run a job now: one date, a range, or what is due (catch_up); trigger http",
            job_routes.run_job,
            job_routes.RUN_QUERY,
            JOBS_RUN_SCOPE,
        ),
    ]
    return tuple(routes)


ROUTES: tuple[Route, ...] = _build_table()
_BY_PATH: dict[str, dict[str, Route]] = {}
# Paths with a {parameter} segment, matched segment by segment (few: one per job route).
_TEMPLATED: dict[str, dict[str, Route]] = {}
for _route in ROUTES:
    _table = _TEMPLATED if "{" in _route.path else _BY_PATH
    _table.setdefault(_route.path, {})[_route.method] = _route


def _find(path: str) -> tuple[dict[str, Route] | None, dict[str, str]]:
    methods = _BY_PATH.get(path)
    if methods is not None:
        return methods, {}
    for template, candidates in _TEMPLATED.items():
        found = match_path(template, path)
        if found is not None:
            return candidates, found
    return None, {}


# --- serving -------------------------------------------------------------------------------------


# The longest request target (path and query) served: anything longer is refused at once (414)
# rather than parsed. `opsmetrics serve` also caps gunicorn's request line at this size.
MAX_TARGET_BYTES = 8190


def _check_length(request: Request) -> None:
    if len(request.path) + len(request.query_string) > MAX_TARGET_BYTES:
        raise RequestTooLong(
            f"the request's path and query exceed {MAX_TARGET_BYTES} bytes; send fewer parameters"
        )


def dispatch(request: Request, services: Services) -> Response:
    """Find the route for a request and serve it; 404 / 405 when there is none."""
    try:
        _check_length(request)
    except RequestTooLong as exc:
        return to_response(exc)
    methods, path_params = _find(request.path)
    route = methods.get(request.method) if methods else None
    if route is None:
        return to_response(_no_route(request, methods))
    return serve(route, request, services, path_params)


def serve(
    route: Route,
    request: Request,
    services: Services,
    path_params: Mapping[str, str] | None = None,
) -> Response:
    """Serve a request already matched to `route` (and its {parameters}, when the door's router
    matched them: else read from the path). Never raises: errors become answers here."""
    try:
        _check_length(request)
        identity = None
        if route.scope is not None:
            identity = request.authenticate()
            require_scope(identity, route.scope)
            if route.report is not None:
                require_org(identity)  # an operator token reads no organization's report
        if path_params is None:
            path_params = match_path(route.path, request.path) or {}
        values = parse_params(request.query, route.params)
        response = route.handler(Call(route, request, identity, values, path_params), services)
    except Exception as exc:
        return to_response(exc)
    if request.method == "GET" and response.status == 200:
        return _validate(request, response)
    return response


def _validate(request: Request, response: Response) -> Response:
    """Add the ETag; answer 304 when the caller already has these bytes."""
    if response.headers.get("Cache-Control") == caching.NO_STORE:
        return response
    tag = response.headers.get("ETag") or caching.etag(response.body, response.content_type or "")
    response.headers["ETag"] = tag
    if caching.not_modified(request.header("if-none-match"), tag):
        kept = {k: v for k, v in response.headers.items() if k in _KEPT_ON_304}
        return Response(304, "", kept)
    return response


_KEPT_ON_304 = {"ETag", "Cache-Control", "Vary", "X-Report-Date", "Link", "X-Next-Cursor"}


def _no_route(request: Request, methods: dict[str, Route] | None) -> Exception:
    if methods:
        allowed = sorted(methods)
        return MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}",
            allowed,
        )
    prefix = "/reports/"
    if request.path.startswith(prefix):
        name = request.path[len(prefix) :].split("/", 1)[0]
        if name not in REPORTS:
            return NotFound(f"unknown report {name[:60]!r}; known reports: {', '.join(REPORTS)}")
    return NotFound(f"no such route: {request.method} {request.path[:100]}")
