"""Framework-neutral HTTP values: what both front doors hand to the routing table and get back.

The Lambda door (Powertools) and the functions-framework door (Flask) each translate their own
request into a `Request` and a `Response` back into their own type; nothing else in the HTTP
layer knows which door a request came through.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qs

from opsmetrics.errors import BadRequest

# Query strings longer than this are refused before parsing (every real one is far shorter).
MAX_QUERY_FIELDS = 50


@dataclass(frozen=True)
class Identity:
    """Who is calling: one organization (`org_id`), or with no org_id claim at all an operator,
    who may use the job routes for every organization but can read no report (reports are
    always one organization's)."""

    org_id: uuid.UUID | None
    scopes: frozenset[str]
    subject: str | None = None


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    path: str
    query_string: str  # raw, still percent-encoded
    headers: Mapping[str, str]  # names in lower case
    # Resolves the caller's identity or raises Unauthorized; called only by routes that need it,
    # so a bad token never spoils /health.
    authenticate: Callable[[], Identity]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @cached_property
    def query(self) -> dict[str, list[str]]:
        """Every value of every parameter, in order (parsed on first use, inside error handling)."""
        return parse_query(self.query_string)


@dataclass
class Response:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


def parse_query(raw: str) -> dict[str, list[str]]:
    """The one query-string parser both doors use, so `a=1&a=2` means the same everywhere.

    (API Gateway's own queryStringParameters joins repeated values with commas; we read the raw
    string instead.)
    """
    if not raw:
        return {}
    try:
        return parse_qs(raw, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:  # only raised for too many fields
        raise BadRequest(f"too many query parameters (at most {MAX_QUERY_FIELDS})") from None


def lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}
