"""The one routing table of the reports HTTP API, and the one function that answers a request.

Both front doors (Powertools in Lambda, functions-framework elsewhere) hand a `Request` to
`dispatch` (or, when their own router already matched, to `answer_route` with the route) and
send back the `Response`. Order of checks for every route: identity and scope, then parameters,
then work; so a caller without a token learns nothing about parameters.

Arrows point one way: this module imports the handlers, the parameters, the route shapes and
the OpenAPI generator; none of them imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from opsmetrics.dashboard import pages
from opsmetrics.errors import NotFound, RequestTooLong
from opsmetrics.reports import caching, handlers, job_routes, openapi
from opsmetrics.reports.auth import (
    JOBS_READ_SCOPE,
    JOBS_RUN_SCOPE,
    READ_SCOPE,
    REFRESH_SCOPE,
    require_org,
    require_scope,
)
from opsmetrics.reports.formats import CONTENT_TYPES
from opsmetrics.reports.messages import Request, Response
from opsmetrics.reports.params import match_path, parse_params
from opsmetrics.reports.problems import MethodNotAllowed, to_response
from opsmetrics.reports.registry import REPORT_JOBS, REPORTS
from opsmetrics.reports.route_model import Call, HandlerDeps, Route
from opsmetrics.reports.route_params import (
    DATE,
    FORMAT,
    REFRESH_DATE,
    REFRESH_QUERY,
    REPORT_QUERY,
    REPORT_SUMMARIES,
)


@cache
def _openapi_json() -> str:
    return openapi.document_json(ROUTES)


def openapi_document(call: Call, deps: HandlerDeps) -> Response:
    return Response(
        200,
        _openapi_json(),
        {
            "Content-Type": CONTENT_TYPES["json"],
            "Cache-Control": caching.DOCUMENT_CACHE_CONTROL,
        },
    )


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
        Route("GET", "/openapi.json", "openapi", "this API's OpenAPI document", openapi_document),
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


def dispatch(request: Request, deps: HandlerDeps) -> Response:
    """Find the route for a request and serve it; 404 / 405 when there is none."""
    try:
        _check_length(request)
    except RequestTooLong as exc:
        return to_response(exc)
    methods, path_params = _find(request.path)
    route = methods.get(request.method) if methods else None
    if route is None:
        return to_response(_no_route(request, methods))
    return answer_route(route, request, deps, path_params)


def answer_route(
    route: Route,
    request: Request,
    deps: HandlerDeps,
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
        response = route.handler(Call(route, request, identity, values, path_params), deps)
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


if __name__ == "__main__":
    # The committed copy of this table's document: python3 -m opsmetrics.reports.routes >
    # docs/openapi.json (tests/http/test_openapi_snapshot.py checks it).
    print(_openapi_json())
