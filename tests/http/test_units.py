"""Pure pieces of the HTTP layer: query parameters, format negotiation, ETags, error answers,
the routing table and the OpenAPI document generated from it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from opsmetrics.errors import BadRequest, JobAlreadyRunning, NotFound
from opsmetrics.reports import caching
from opsmetrics.reports.formats import choose_format
from opsmetrics.reports.messages import parse_query
from opsmetrics.reports.openapi import document
from opsmetrics.reports.params import Param, parse_params
from opsmetrics.reports.problems import to_response
from opsmetrics.reports.registry import REPORTS
from opsmetrics.reports.routes import ROUTES

LIMIT = Param("limit", "integer", "", minimum=1, maximum=1000, default=100)
DAY = Param("date", "date", "")
FLAG = Param("flag", "boolean", "", default=False)
FMT = Param("format", "choice", "", choices=("json", "csv"))
TEXT = Param("region", "string", "")


def test_params_defaults_and_values() -> None:
    params = (LIMIT, DAY, FLAG, FMT, TEXT)
    assert parse_params({}, params) == {
        "limit": 100,
        "date": None,
        "flag": False,
        "format": None,
        "region": None,
    }
    got = parse_params(
        {
            "limit": ["1000"],
            "date": [" 2026-11-22 "],
            "flag": ["YES"],
            "format": ["CSV"],
            "region": [" North West "],
        },
        params,
    )
    assert got == {
        "limit": 1000,
        "date": date(2026, 11, 22),
        "flag": True,
        "format": "csv",
        "region": "North West",
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": ["1001"]}, "limit must be at most 1000, got 1001"),
        ({"limit": ["0"]}, "limit must be at least 1, got 0"),
        ({"limit": ["-5"]}, "limit must be a whole number"),
        ({"limit": ["1e3"]}, "limit must be a whole number"),
        ({"limit": ["9" * 40]}, "limit must be a whole number"),
        ({"limit": ["١٢"]}, "limit must be a whole number"),  # Arabic-Indic digits
        ({"date": ["2026-13-01"]}, "date must be a date as YYYY-MM-DD"),
        ({"date": ["0001-01-01"]}, "date must be between 1970-01-01 and 2999-12-31"),
        ({"flag": ["maybe"]}, "flag must be true or false"),
        ({"format": ["xml"]}, "format must be one of json, csv"),
        ({"region": ["a\x00b"]}, "region must not contain control characters"),
        ({"region": ["x" * 201]}, "region is too long"),
        ({"limit": ["1", "2"]}, "limit is given 2 times"),
        ({"colour": ["red"]}, "'colour' is not a parameter of this route"),
    ],
)
def test_params_refusals_name_the_parameter(query: dict[str, list[str]], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_params(query, (LIMIT, DAY, FLAG, FMT, TEXT))
    assert str(caught.value).startswith(message)


def test_query_string_parsing() -> None:
    assert parse_query("a=1&a=2&b=&c=x%20y") == {"a": ["1", "2"], "b": [""], "c": ["x y"]}
    assert parse_query("") == {}
    with pytest.raises(BadRequest, match="too many"):
        parse_query("&".join(f"p{i}=1" for i in range(60)))


@pytest.mark.parametrize(
    ("explicit", "accept", "expected"),
    [
        (None, None, "json"),
        (None, "text/csv", "csv"),
        (None, "text/*", "csv"),
        (None, "application/json", "json"),
        (None, "*/*", "json"),
        (None, "text/html,application/xhtml+xml,*/*;q=0.8", "json"),  # a browser
        (None, "text/csv;q=0.9, application/json;q=0.8", "csv"),
        (None, "text/csv;q=0.5, application/json", "json"),
        (None, "application/json;q=0, text/csv;q=0.1", "csv"),
        (None, "text/csv;q=nan", "json"),
        (None, "text/csv;q=2", "json"),  # out of range counts as 0
        ("json", "text/csv", "json"),  # the parameter wins
    ],
)
def test_format_negotiation(explicit: str | None, accept: str | None, expected: str) -> None:
    assert choose_format(explicit, accept) == expected


def test_etags_and_if_none_match() -> None:
    tag = caching.etag("body", "application/json")
    assert tag == caching.etag("body", "application/json")
    assert tag != caching.etag("body", "text/csv")
    assert tag != caching.etag("body!", "application/json")
    assert caching.not_modified(tag, tag)
    assert caching.not_modified(f'"a", W/{tag}', tag)
    assert caching.not_modified("*", tag)
    assert not caching.not_modified('"a"', tag)
    assert not caching.not_modified(None, tag)
    assert not caching.not_modified("", tag)


def test_exceptions_become_json_errors() -> None:
    cases = [
        (BadRequest("date must be ..."), 400),
        (NotFound("no such route"), 404),
        (JobAlreadyRunning("busy"), 409),
    ]
    for exc, status in cases:
        answer = to_response(exc)
        assert answer.status == status
        assert json.loads(answer.body) == {"error": {"status": status, "message": str(exc)}}
        assert answer.headers["Cache-Control"] == "no-store"
    hidden = to_response(RuntimeError("password=hunter2 in a connection string"))
    assert hidden.status == 500
    assert "hunter2" not in hidden.body


def test_every_report_has_a_get_and_a_refresh_and_org_is_never_a_parameter() -> None:
    """The rules of scopes: a report route (/reports/...) needs a reports scope and takes its
    organization from the token; a /jobs/... route needs a jobs scope (its `org` parameter is
    checked against the token); every other route is public (the dashboard, health, the API's
    description): API Gateway lets those past the authorizer, so they must hold no data."""
    table = {(r.method, r.path) for r in ROUTES}
    for name in REPORTS:
        assert ("GET", f"/reports/{name}") in table, f"report {name} has no GET route"
        assert ("POST", f"/reports/{name}/refresh") in table, f"report {name} has no refresh"
    for route in ROUTES:
        names = {p.name for p in route.params}
        where = f"{route.method} {route.path}"
        if route.report:
            # a report's organization is the token's, never a parameter
            assert not names & {"org", "org_id", "organization"}, (
                f"{where}: a report's organization comes from the token, never a parameter"
            )
            assert route.scope in ("reports:read", "reports:refresh"), (
                f"{where}: a report route needs scope reports:read (GET) or reports:refresh"
            )
        elif route.path.startswith("/jobs/"):  # `org` there is checked against the token
            assert route.scope in ("jobs:read", "jobs:run"), (
                f"{where}: a /jobs/... route needs scope jobs:read or jobs:run"
            )
        else:
            assert route.scope is None, (
                f"{where} has scope {route.scope}: only /reports/... and /jobs/... routes have"
                " a scope, every other route is public and holds no data; put a route that"
                " needs a token under /jobs/ (or a report under /reports/), or widen this rule"
                " here and in template.yaml's public routes (test_reports_http_api)"
            )


def test_openapi_document_matches_the_table() -> None:
    doc = document(ROUTES)
    for route in ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        query = [p["name"] for p in op["parameters"] if p["in"] == "query"]
        assert query == [p.name for p in route.params]
        in_path = [p["name"] for p in op["parameters"] if p["in"] == "path"]
        assert in_path == [s[1:-1] for s in route.path.split("/") if s.startswith("{")]
        assert op["security"] == ([{"bearer": [route.scope]}] if route.scope else [])
    limit = next(
        p for p in doc["paths"]["/reports/territories"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}


def test_a_value_the_database_cannot_store_is_the_callers_mistake() -> None:
    class DriverError(Exception):
        pass

    class Wrapped(Exception):
        def __init__(self, code: str) -> None:
            super().__init__("wrapped")
            self.orig = DriverError({"C": code, "M": "invalid byte sequence"})

    assert to_response(Wrapped("22021")).status == 400
    assert to_response(Wrapped("42P01")).status == 500  # a missing table is ours
