"""Every route of the routing table, through both front doors: each is routed (never the 404 or
405 of a path or method the door does not know). A public route answers; a route with a scope
asks for a token (401) before anything else, which it can only do once it is matched."""

from __future__ import annotations

import re

import pytest

from opsmetrics.jobs import JOBS
from opsmetrics.reports.route_model import Route
from opsmetrics.reports.routes import ROUTES
from tests.http.doors import Door

# A value for each {parameter} of a route's path that its handler serves.
PATH_SAMPLES = {"file": "main.js", "job": next(iter(JOBS))}


def concrete(route: Route) -> str:
    """The route's path with a served value for each {parameter}."""
    missing = sorted(set(re.findall(r"\{(\w+)\}", route.path)) - PATH_SAMPLES.keys())
    if missing:
        pytest.fail(
            f"{route.method} {route.path}: add a value its handler serves for {missing} to"
            " PATH_SAMPLES in tests/http/test_every_route.py"
        )
    return re.sub(r"\{(\w+)\}", lambda m: PATH_SAMPLES[m.group(1)], route.path)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_routed_through_both_doors(door: Door, route: Route) -> None:
    path = concrete(route)
    answer = door.call(route.method, path)  # no token
    where = f"{route.method} {path} through the {door.name} door"
    assert answer.status not in (404, 405), (
        f"{where}: {answer.status} {answer.body[:200]}: the door does not route a route of the"
        " routing table (both doors must dispatch every Route of opsmetrics/reports/routes.py)"
    )
    if route.scope is None:
        assert answer.status < 400, f"{where}: a public route answered {answer.status}"
    else:
        assert answer.status == 401, (
            f"{where}: without a token a route with scope {route.scope} must answer 401, not"
            f" {answer.status}"
        )
