"""API Gateway HTTP API (payload 2.0) events and a stand-in Lambda context, as AWS sends them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class FakeContext:
    function_name: str = "opsmetrics-reports"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-2:123456789012:function:opsmetrics-reports"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def http_event(
    method: str,
    path: str,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    *,
    org_id: str | uuid.UUID | None = None,
    scopes: Iterable[str] | None = None,
    claims: Mapping[str, Any] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """The event API Gateway sends after its JWT authorizer accepted a token carrying `org_id` and
    `scopes` (claims are strings there; scopes also arrive as a list). No org and no claims: a
    public route's event, without an authorizer block."""
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.eu-west-2.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path if stage == "$default" else f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "pytest",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": f"{method} {path}",
        "stage": stage,
        "time": "22/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795341600000,
    }
    if claims is None and org_id is not None:
        scope_list = list(scopes or [])
        claims = {
            "sub": "user-1",
            "org_id": str(org_id),
            "scope": " ".join(scope_list),
            "iss": "https://issuer.example",
            "exp": "1795345200",
        }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": dict(claims), "scopes": list(scopes) if scopes else None}
        }
    query_params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path if stage == "$default" else f"/{stage}{path}",
        "rawQueryString": query,
        "headers": {"host": "abc123.execute-api.eu-west-2.amazonaws.com", **(headers or {})},
        "queryStringParameters": query_params or None,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
