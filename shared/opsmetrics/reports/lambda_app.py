"""The Lambda front door: a Powertools APIGatewayHttpResolver over the one routing table.

Every route of opsmetrics.reports.routes is registered with the resolver in a loop (so Powertools
does the matching, and the routes are written once); unmatched requests go to the same neutral
dispatcher for a 404/405 in the API's own error shape. API Gateway's JWT authorizer has verified
the token already; the identity is read from requestContext.authorizer.jwt (claims org_id and
scope), and a request without them is 401.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler import Response as PowertoolsResponse
from aws_lambda_powertools.logging import correlation_paths

from opsmetrics.errors import BadRequest
from opsmetrics.observability import logger
from opsmetrics.reports.auth import identity_from_claims
from opsmetrics.reports.messages import Identity, Request, Response, lower_headers
from opsmetrics.reports.problems import MissingToken, error_response
from opsmetrics.reports.route_model import HandlerDeps, Route
from opsmetrics.reports.routes import ROUTES, answer_route, dispatch

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.config import Settings


def _engine() -> Engine:
    from opsmetrics.config import Settings
    from opsmetrics.db import get_engine

    # Settings are read per request at the boundary; the engine itself is cached per container.
    return get_engine(Settings.from_env())


def _settings() -> Settings:
    from opsmetrics.config import Settings

    return Settings.from_env()


DEPS = HandlerDeps(engine=_engine, settings=_settings, today=lambda: datetime.now(UTC).date())

app = APIGatewayHttpResolver()
# Lambda refuses synchronous answers over 6 MB, headers and JSON envelope included.
MAX_LAMBDA_BODY = 5_500_000


def _request() -> Request:
    event = app.current_event
    authorizer = event.request_context.authorizer

    def authenticate() -> Identity:
        claims = authorizer.jwt_claim
        if not claims:
            raise MissingToken("no verified token: this route needs the API's JWT authorizer")
        scopes = authorizer.jwt_scopes or []
        return identity_from_claims(claims, [s for s in scopes if isinstance(s, str)])

    return Request(
        method=event.http_method.upper(),
        path=event.path,
        query_string=event.raw_query_string or "",
        headers=lower_headers(event.get("headers")),
        authenticate=authenticate,
    )


def _answer(response: Response) -> PowertoolsResponse[str]:
    if len(response.body) > MAX_LAMBDA_BODY:
        # Lambda would fail the invocation (API Gateway then says 502): say what to do instead.
        logger().error("answer too large for Lambda", extra={"bytes": len(response.body)})
        response = error_response(
            500, "this answer is too large to send from Lambda; ask for fewer rows (limit)"
        )
    return PowertoolsResponse(
        status_code=response.status, body=response.body, headers=dict(response.headers)
    )


def _bind(route: Route) -> Callable[..., PowertoolsResponse[str]]:
    def endpoint(**path_params: str) -> PowertoolsResponse[str]:
        return _answer(answer_route(route, _request(), DEPS, path_params))

    endpoint.__name__ = route.operation_id
    return endpoint


def powertools_path(path: str) -> str:
    """The table's OpenAPI-style `{name}` path parameters in Powertools' `<name>` syntax."""
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


for _route in ROUTES:
    app.route(powertools_path(_route.path), method=_route.method)(_bind(_route))


@app.not_found
def _not_found(_exc: Exception) -> PowertoolsResponse[str]:
    return _answer(dispatch(_request(), DEPS))


@logger().inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance((event.get("requestContext") or {}).get("http"), dict):
        # A schedule's tick or a hand-made payload sent to the wrong function: say so in one
        # line, not as Powertools' KeyError.
        raise BadRequest(
            "the reports function answers API Gateway HTTP API events (payload 2.0, with"
            " requestContext.http); this event is not one"
        )
    return app.resolve(event, context)
