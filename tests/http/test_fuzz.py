"""A property-based run driven by /openapi.json: for every operation the document lists, send
requests built from its parameter schemas (valid values, edge values and junk, unknown and
repeated parameters, odd Accept/If-None-Match headers) and check that nothing answers 5xx and
every refusal is the documented error shape. Bounded, so it stays fast in CI."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.doors import BOTH, Door, LambdaDoor
from tests.http.world import World

# Examples per door: in-process calls are cheap; the real server pays for loopback HTTP.
EXAMPLES = {"lambda": 250, "server": 60}

_JUNK = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=30
)


def _operations() -> list[tuple[str, str, list[dict[str, Any]]]]:
    answer = LambdaDoor().call("GET", "/openapi.json")
    assert answer.status == 200
    doc = answer.json()
    return [
        (method.upper(), path, op.get("parameters", []))
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    ]


def _cursor_like() -> st.SearchStrategy[str]:
    """Strings shaped like the report's opaque cursors (base64url JSON), with odd contents."""
    parts = st.one_of(
        st.dates().map(date.isoformat),
        st.uuids().map(str),
        _JUNK,
        st.integers(),
        st.none(),
    )
    payload = st.lists(parts, min_size=0, max_size=4).map(json.dumps)
    return payload.map(lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="))


def _value(schema: dict[str, Any], name: str) -> st.SearchStrategy[str]:
    kind = schema.get("type")
    valid: st.SearchStrategy[str]
    if schema.get("format") == "date":
        around = date(2026, 11, 22)
        valid = st.one_of(
            st.integers(-30, 30).map(lambda d: (around + timedelta(days=d)).isoformat()),
            st.dates().map(date.isoformat),
        )
    elif kind == "integer":
        low, high = schema.get("minimum", -10), schema.get("maximum", 10_000)
        valid = st.integers(low - 2, high + 2).map(str)
    elif kind == "boolean":
        valid = st.sampled_from(["true", "false", "1", "0", "TRUE", "yes"])
    elif "enum" in schema:
        valid = st.sampled_from([*schema["enum"], *(v.upper() for v in schema["enum"])])
    elif name == "cursor":
        valid = _cursor_like()
    else:
        valid = st.sampled_from(["London", "north west", "Nowhere", ""])
    return st.one_of(valid, _JUNK)


@st.composite
def _request(draw: st.DrawFn, operations: list[tuple[str, str, list[dict[str, Any]]]]) -> Any:
    method, path, params = draw(st.sampled_from(operations))
    pairs: list[tuple[str, str]] = []
    for param in params:
        if draw(st.booleans()):
            values = draw(st.lists(_value(param["schema"], param["name"]), min_size=1, max_size=2))
            pairs.extend((param["name"], v) for v in values)
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from(["org_id", "org", "x", ""])), draw(_JUNK)))
    headers = {}
    accept = draw(st.sampled_from([None, "text/csv", "application/json", "*/*", "text/csv;q=x"]))
    if accept:
        headers["Accept"] = accept
    if draw(st.integers(0, 4)) == 0:
        headers["If-None-Match"] = draw(st.sampled_from(['"x"', "*", "W/", ",,"]))
    return method, path, urlencode(pairs), headers


def _check(door: Door, world: World, data: st.DataObject, operations: list[Any]) -> None:
    method, path, query, headers = data.draw(_request(operations))
    org = data.draw(st.sampled_from([world.org_a, world.org_b]))
    answer = door.call(method, path, query, headers, org=org, scopes=BOTH)
    assert answer.status < 500, (method, path, query, answer.body)
    if answer.status >= 400:
        error = answer.json()["error"]
        assert error["status"] == answer.status and error["message"]
    elif answer.status == 200 and answer.headers["content-type"].startswith("application/json"):
        body = answer.json()
        if path.startswith("/reports/"):
            assert {"report", "date", "summary", "rows"} <= set(body)
            ids = {r.get("territory_id") for r in body["rows"]} - {None}
            assert ids <= world.ids_of("A" if org == world.org_a else "B")


def test_no_5xx_for_any_documented_request(door: Door, world: World) -> None:
    operations = _operations()

    @settings(
        max_examples=EXAMPLES[door.name],
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(door, world, data, operations)

    run()


def test_forged_cursors_are_never_500(door: Door, world: World) -> None:
    """Cursors are opaque but not trusted: whatever a client puts in one is not a server error."""
    forged = [
        ["2026-11-22", "a\u0000b", "8b7c6b1e-0b1a-4c4e-9a55-1d2b3c4d5e6f"],
        ["2026-11-22", "SW1A 1", 123],
        ["0001-01-01", "SW1A 1", "8b7c6b1e-0b1a-4c4e-9a55-1d2b3c4d5e6f"],
        {"day": "2026-11-22"},
    ]
    for content in forged:
        cursor = base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")
        answer = door.call("GET", "/reports/territories", f"cursor={cursor}", org=world.org_a)
        assert answer.status in (200, 400), (content, answer.body)
