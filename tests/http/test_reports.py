"""Every route through both front doors against real PostgreSQL: happy paths with figures worked
out by hand (see tests/http/world.py for the rows), CSV, pagination, ETag/304, 401/403, and
organization B never seeing organization A's rows."""

from __future__ import annotations

import csv
import io
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from opsmetrics.reports.routes import ROUTES
from tests.http.doors import BOTH, READ, REFRESH, Door
from tests.http.world import D, World

REPORT_PATHS = [
    "/reports/territories",
    "/reports/hiring-triggers",
    "/reports/coverage-gaps",
    "/reports/trends",
]


# --- public routes -------------------------------------------------------------------------------


def test_health_is_public_and_not_cached(door: Door) -> None:
    answer = door.call("GET", "/health")
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "database": "ok"}
    assert answer.headers["cache-control"] == "no-store"
    assert "etag" not in answer.headers


def test_openapi_lists_every_route_and_revalidates(door: Door) -> None:
    answer = door.call("GET", "/openapi.json")
    assert answer.status == 200
    doc = answer.json()
    assert doc["openapi"].startswith("3.")
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    table = {(route.method, route.path) for route in ROUTES}
    assert operations == table, (
        f"the OpenAPI document served through the {door.name} door lists"
        f" {sorted(operations - table)} that the routing table does not serve, and misses"
        f" {sorted(table - operations)}: it must be generated from the table (routes.py)"
    )
    again = door.call("GET", "/openapi.json", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status == 304
    assert again.body == ""


def test_unknown_routes_and_methods(door: Door, world: World) -> None:
    missing = door.call("GET", "/reports/payroll", org=world.org_a)
    assert missing.status == 404
    assert "unknown report 'payroll'" in missing.error
    assert door.call("GET", "/nothing/here").status == 404
    wrong = door.call("DELETE", "/reports/territories", org=world.org_a)
    assert wrong.status == 405
    assert wrong.headers["allow"] == "GET"
    assert door.call("GET", "/reports/territories/refresh", org=world.org_a).status == 405


# --- territories ---------------------------------------------------------------------------------


def test_territories_latest_date_summary_and_rows(door: Door, world: World) -> None:
    answer = door.call("GET", "/reports/territories", org=world.org_a)
    assert answer.status == 200, answer.body
    body = answer.json()
    # No date asked: the latest date the daily job computed for A is D (it also computed D-7),
    # and it says so.
    assert body["date"] == D.isoformat()
    assert answer.headers["x-report-date"] == D.isoformat()
    assert body["summary"] == {
        "total": 4,
        "assigned": 3,  # SW1A 1, EC1V 9 and M2 1 have a primary medic
        "unassigned": 1,
        "average_utilization": 55.0,  # (100 + 100 + 20 + 0) / 4
        "total_bookings": 36,  # 20 + 12 + 4 + 0
        "average_rejection_rate": 32.78,  # (15 + 33.33 + 50) / 3 = 32.7766.. (M2 1 had none)
    }
    rows = body["rows"]
    assert [r["postcode_sector"] for r in rows] == ["EC1V 9", "M1 4", "M2 1", "SW1A 1"]
    ec1v = rows[0]
    assert ec1v["territory_id"] == str(world.tid("A", "EC1V 9"))
    assert (ec1v["total_bookings"], ec1v["confirmed_bookings"], ec1v["rejected_bookings"]) == (
        12,
        8,
        4,
    )
    assert (ec1v["rejection_rate"], ec1v["fulfillment_rate"]) == (33.33, 66.67)
    assert (ec1v["primary_assigned"], ec1v["secondary_assigned"]) == (True, False)
    assert body["next_cursor"] is None
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "private, max-age=300"
    assert "link" not in answer.headers


def test_territories_of_an_earlier_date_and_a_region(door: Door, world: World) -> None:
    earlier = door.call("GET", "/reports/territories", "date=2026-11-15", org=world.org_a).json()
    # At D-7 only SW1A 1 (5 bookings) and EC1V 9 (4) have rows.
    assert earlier["summary"]["total"] == 2
    assert earlier["summary"]["total_bookings"] == 9
    london = door.call("GET", "/reports/territories", "region=london", org=world.org_a).json()
    assert [r["postcode_sector"] for r in london["rows"]] == ["EC1V 9", "SW1A 1"]
    # (15 + 33.33) / 2 = 24.165 -> 24.17 half up; utilization (100 + 100) / 2
    assert london["summary"]["average_rejection_rate"] == 24.17
    assert london["summary"]["average_utilization"] == 100.0


def test_territories_pagination_with_cursor_and_link(door: Door, world: World) -> None:
    first = door.call("GET", "/reports/territories", "limit=3", org=world.org_a)
    page1 = first.json()
    assert [r["postcode_sector"] for r in page1["rows"]] == ["EC1V 9", "M1 4", "M2 1"]
    cursor = page1["next_cursor"]
    assert cursor and first.headers["x-next-cursor"] == cursor
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    target = urlsplit(link[1 : link.index(">")])
    assert target.path == "/reports/territories"
    assert parse_qs(target.query) == {"limit": ["3"], "cursor": [cursor], "date": [D.isoformat()]}
    second = door.call("GET", "/reports/territories", target.query, org=world.org_a)
    page2 = second.json()
    assert [r["postcode_sector"] for r in page2["rows"]] == ["SW1A 1"]
    assert page2["next_cursor"] is None
    assert "link" not in second.headers
    # The summary covers every territory on every page.
    assert page2["summary"] == page1["summary"]
    assert page1["summary"]["total"] == 4


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=1001", "limit"),  # max 1000
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("date=2026-02-30", "date"),
        ("date=22/11/2026", "date"),
        ("cursor=not-a-cursor", "cursor"),
        ("format=xml", "format"),
        ("dat=2026-11-22", "dat"),
        ("date=2026-11-22&date=2026-11-21", "date"),
        ("region=%00", "region"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    door: Door, world: World, query: str, named: str
) -> None:
    answer = door.call("GET", "/reports/territories", query, org=world.org_a)
    assert answer.status == 400, answer.body
    assert named in answer.error
    assert answer.headers["cache-control"] == "no-store"


def test_empty_parameters_count_as_absent(door: Door, world: World) -> None:
    answer = door.call(
        "GET", "/reports/territories", "date=&region=&limit=&cursor=", org=world.org_a
    )
    assert answer.status == 200
    assert answer.json()["date"] == D.isoformat()
    assert len(answer.json()["rows"]) == 4  # default limit 100


# --- hiring triggers and coverage gaps -----------------------------------------------------------


def test_hiring_triggers_grouped_by_region_with_counts(door: Door, world: World) -> None:
    answer = door.call("GET", "/reports/hiring-triggers", org=world.org_a)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["date"] == D.isoformat()
    # SW1A 1: utilization 100 > 80 for 3 weeks -> critical; fulfillment 85 < 90 with 20 bookings
    #         -> critical; rejection 15 > 10 -> warning.
    # EC1V 9: utilization 100 > 70 but only 1 week -> warning; fulfillment 66.67 -> critical;
    #         rejection 33.33 > 25 -> critical.
    # M1 4 has only 4 bookings and 20% utilization; M2 1 is quiet: no triggers.
    assert body["summary"] == {"critical": 4, "warning": 2, "info": 0, "total": 6}
    found = {(r["severity"], r["trigger_type"], r["postcode_sector"]) for r in body["rows"]}
    assert found == {
        ("critical", "high_utilization", "SW1A 1"),
        ("critical", "low_fulfillment", "SW1A 1"),
        ("warning", "coverage_gap", "SW1A 1"),
        ("warning", "high_utilization", "EC1V 9"),
        ("critical", "low_fulfillment", "EC1V 9"),
        ("critical", "coverage_gap", "EC1V 9"),
    }
    assert [r["severity"] for r in body["rows"]][:4] == ["critical"] * 4
    assert [g["region"] for g in body["by_region"]] == ["London"]
    assert (body["by_region"][0]["critical"], body["by_region"][0]["warning"]) == (4, 2)
    critical_hire = next(
        r for r in body["rows"] if r["trigger_type"] == "high_utilization" and r["weeks_active"]
    )
    assert critical_hire["message"] == "Hire medic in London (SW1A 1 sectors, 100% utilization)"


def test_hiring_triggers_limit_keeps_the_most_urgent_and_counts_all(
    door: Door, world: World
) -> None:
    body = door.call("GET", "/reports/hiring-triggers", "limit=4", org=world.org_a).json()
    assert [r["severity"] for r in body["rows"]] == ["critical"] * 4
    assert body["summary"]["total"] == 6  # all six counted, as above
    assert body["truncated"] is True
    whole = door.call("GET", "/reports/hiring-triggers", org=world.org_a).json()
    assert whole["truncated"] is False  # the report's default limit (100) holds all six
    over = door.call("GET", "/reports/coverage-gaps", "limit=5001", org=world.org_a)
    assert over.status == 400
    assert over.error.startswith("limit must be at most 5000")


def test_weekly_reports_want_a_sunday(door: Door, world: World) -> None:
    for path in ("/reports/hiring-triggers", "/reports/coverage-gaps"):
        answer = door.call("GET", path, "date=2026-11-20", org=world.org_a)
        assert answer.status == 400
        name = path.rsplit("/", 1)[1]
        assert answer.error == (
            f"date must be a week-ending Sunday for {name}; 2026-11-20 is a Friday"
            " (the Sunday before it is 2026-11-15)"
        )


def test_coverage_gaps_sorted_with_and_without_low_volume(door: Door, world: World) -> None:
    body = door.call("GET", "/reports/coverage-gaps", org=world.org_a).json()
    # Rejection > 10 with >= 10 bookings: EC1V 9 (33.33, critical) then SW1A 1 (15, warning).
    assert [
        (r["postcode_sector"], r["severity"], r["rejection_rate"], r["recommended_action"])
        for r in body["rows"]
    ] == [
        ("EC1V 9", "critical", 33.33, "Assign secondary medic"),
        ("SW1A 1", "warning", 15.0, "Consider hiring additional medic"),
    ]
    assert [r["weeks_persisting"] for r in body["rows"]] == [1, 2]
    every = door.call(
        "GET", "/reports/coverage-gaps", "include_low_volume=true", org=world.org_a
    ).json()
    # M1 4: 2 of 4 rejected = 50% > 25 -> critical, first by rate; no primary medic.
    assert [r["postcode_sector"] for r in every["rows"]] == ["M1 4", "EC1V 9", "SW1A 1"]
    low = every["rows"][0]
    assert (low["minimum_volume_met"], low["note"], low["recommended_action"]) == (
        False,
        "Only 4 bookings - monitor before acting",
        "Assign primary medic",
    )
    bad = door.call("GET", "/reports/coverage-gaps", "include_low_volume=maybe", org=world.org_a)
    assert bad.status == 400
    assert "include_low_volume" in bad.error


# --- trends --------------------------------------------------------------------------------------


def test_trends_default_week_one_day_and_ranges(door: Door, world: World) -> None:
    body = door.call("GET", "/reports/trends", org=world.org_a).json()
    # The 7 days ending at the latest day computed, D: A has rows on D-1 (3) and D (10).
    assert [r["trend_date"] for r in body["rows"]] == ["2026-11-21", "2026-11-22"]
    assert body["summary"]["total_classifications"] == 13
    assert body["date"] == D.isoformat()
    one = door.call("GET", "/reports/trends", "date=2026-11-22", org=world.org_a).json()
    assert [r["total_classifications"] for r in one["rows"]] == [10]
    assert one["rows"][0]["top_topic"] == "complaint"
    assert one["rows"][0]["hotspot_count"] == 1
    ranged = door.call(
        "GET", "/reports/trends", "from=2026-11-20&to=2026-11-21", org=world.org_a
    ).json()
    assert [r["total_classifications"] for r in ranged["rows"]] == [3]
    backwards = door.call(
        "GET", "/reports/trends", "from=2026-11-22&to=2026-11-01", org=world.org_a
    )
    assert backwards.status == 400
    assert "from" in backwards.error


# --- formats and caching -------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_csv_by_parameter_or_accept_header(door: Door, world: World, path: str) -> None:
    json_rows = door.call("GET", path, org=world.org_a).json()["rows"]
    by_param = door.call("GET", path, "format=csv", org=world.org_a)
    by_accept = door.call("GET", path, headers={"Accept": "text/csv"}, org=world.org_a)
    for answer in (by_param, by_accept):
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.headers["x-report-date"] == D.isoformat()
        table = list(csv.DictReader(io.StringIO(answer.body)))
        assert len(table) == len(json_rows) > 0
        key = "trend_date" if path.endswith("trends") else "postcode_sector"
        assert [r[key] for r in table] == [str(r[key]) for r in json_rows]
    assert by_param.body == by_accept.body
    # Weighted Accept: JSON preferred over CSV.
    mixed = door.call(
        "GET", path, headers={"Accept": "text/csv;q=0.5, application/json"}, org=world.org_a
    )
    assert mixed.headers["content-type"].startswith("application/json")


def test_csv_territories_content_and_next_cursor_header(door: Door, world: World) -> None:
    answer = door.call("GET", "/reports/territories", "format=csv&limit=2", org=world.org_a)
    table = list(csv.DictReader(io.StringIO(answer.body)))
    assert [r["postcode_sector"] for r in table] == ["EC1V 9", "M1 4"]
    assert table[0]["rejection_rate"] == "33.33"
    assert answer.headers["x-next-cursor"]
    assert "format=csv" in answer.headers["link"]


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_etag_and_304(door: Door, world: World, path: str) -> None:
    first = door.call("GET", path, org=world.org_a)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')
    same = door.call("GET", path, headers={"If-None-Match": tag}, org=world.org_a)
    assert same.status == 304
    assert same.body == ""
    assert same.headers["etag"] == tag
    assert same.headers["cache-control"] == "private, max-age=300"
    listed = door.call("GET", path, headers={"If-None-Match": f'"other", W/{tag}'}, org=world.org_a)
    assert listed.status == 304  # weak comparison, tag lists
    stale = door.call("GET", path, headers={"If-None-Match": '"stale"'}, org=world.org_a)
    assert stale.status == 200
    as_csv = door.call("GET", path, "format=csv", org=world.org_a)
    assert as_csv.headers["etag"] != tag  # another representation, another tag
    # B's answer is other data: its tag never matches A's.
    other = door.call("GET", path, headers={"If-None-Match": tag}, org=world.org_b)
    assert other.status == 200


# --- auth and tenancy ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_no_identity_is_401(door: Door, world: World, path: str) -> None:
    for method, target in (("GET", path), ("POST", f"{path}/refresh")):
        answer = door.call(method, target, "date=not-checked-before-auth")
        assert answer.status == 401, (method, target, answer.body)
        assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_missing_scope_is_403(door: Door, world: World, path: str) -> None:
    read_only = door.call("POST", f"{path}/refresh", org=world.org_a, scopes=READ)
    assert read_only.status == 403
    assert "reports:refresh" in read_only.error
    refresh_only = door.call("GET", path, org=world.org_a, scopes=REFRESH)
    assert refresh_only.status == 403
    assert "reports:read" in refresh_only.error
    assert 'scope="reports:read"' in refresh_only.headers["www-authenticate"]


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_b_never_sees_a(door: Door, world: World, path: str) -> None:
    a_only = world.ids_of("A")
    for query in ("", "format=csv", "date=2026-11-22", "include_low_volume=true"):
        if "include_low_volume" in query and "coverage" not in path:
            continue
        if path.endswith("trends") and query == "date=2026-11-22":
            query = "from=2026-11-01&to=2026-11-30"
        answer = door.call("GET", path, query, org=world.org_b)
        assert answer.status == 200, answer.body
        assert str(world.org_a) not in answer.body
        assert not any(t in answer.body for t in a_only)
        assert "Acme Medics" not in answer.body
    rows = door.call("GET", path, org=world.org_b).json()["rows"]
    assert rows, "B has rows of its own in every report"


def test_b_sees_its_own_rows_only(door: Door, world: World) -> None:
    body = door.call("GET", "/reports/territories", org=world.org_b).json()
    assert [r["territory_id"] for r in body["rows"]] == [
        str(world.tid("B", "B15 2")),
        str(world.tid("B", "SW1A 1")),
    ]
    # B's SW1A 1: 6 of 10 confirmed -> warning (no weeks), 60% fulfillment and 40% rejection ->
    # both critical.
    triggers = door.call("GET", "/reports/hiring-triggers", org=world.org_b).json()
    assert triggers["summary"] == {"critical": 2, "warning": 1, "info": 0, "total": 3}
    trends = door.call("GET", "/reports/trends", org=world.org_b).json()
    assert [r["total_classifications"] for r in trends["rows"]] == [7]


def test_a_cursor_in_b_hands_pages_only_b(door: Door, world: World) -> None:
    cursor = door.call("GET", "/reports/territories", "limit=1", org=world.org_a).json()[
        "next_cursor"
    ]
    body = door.call("GET", "/reports/territories", f"cursor={cursor}", org=world.org_b).json()
    assert all(r["territory_id"] in world.ids_of("B") for r in body["rows"])


def test_unknown_organization_sees_nothing(door: Door, world: World) -> None:
    stranger = uuid.uuid4()
    body = door.call("GET", "/reports/territories", org=stranger).json()
    assert body["rows"] == []
    # The world's runs covered every organization, so D counts as computed for it too.
    assert body["date"] == D.isoformat()
    refresh = door.call("POST", "/reports/territories/refresh", org=stranger, scopes=BOTH)
    assert refresh.status == 403
    assert "not known" in refresh.error
