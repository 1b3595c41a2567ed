"""The territories, hiring-triggers and coverage-gaps reports against PostgreSQL.

Figures come from tests/territory/fixture.py (daily) and test_weekly_db.py (weekly), where the
arithmetic is written out.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest, NotFound
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.territory.figures import read_figures
from opsmetrics.territory.triggers import evaluate
from tests.factories import org
from tests.territory.fixture import D, World, build_world, day
from tests.territory.test_weekly_db import S1, S2, S3, Weeks, build_weeks

DAILY = "daily-territory-metrics"


def report(engine: Engine, name: str, **params: Any) -> Report:
    with engine.connect() as conn:
        return build(conn, name, ReportParams(**params))


@pytest.fixture
def world(db: Engine, settings: Settings) -> World:
    w = build_world(db)
    runs.run(DAILY, [D], trigger="manual", engine=db, settings=settings)
    return w


# --- territories -------------------------------------------------------------------------------


def test_territories_summary_and_rows(world: World, db: Engine) -> None:
    r = report(db, "territories", org_id=world.org_a)
    assert r.date == D
    # 4 territories of A, 3 with a primary; utilization (60+80+0+100)/4 = 60.00;
    # bookings 5+6+0+32 = 43; rejection over the 3 with bookings (20+33.33+3.13)/3 = 18.82
    assert r.summary == {
        "total": 4,
        "assigned": 3,
        "unassigned": 1,
        "average_utilization": Decimal("60.00"),
        "total_bookings": 43,
        "average_rejection_rate": Decimal("18.82"),
    }
    rows = r.rows
    assert [x["postcode_sector"] for x in rows] == ["B1 1", "EC1V 9", "M1 4", "SW1A 1"]
    a2 = rows[2]
    assert a2 == {
        "territory_id": str(world.a2),
        "postcode_sector": "M1 4",
        "region": "North West",
        "total_bookings": 6,
        "confirmed_bookings": 4,
        "rejected_bookings": 2,
        "rejection_rate": Decimal("33.33"),
        "fulfillment_rate": Decimal("66.67"),
        "primary_medic_utilization": Decimal("80.00"),
        "hiring_trigger_weeks": 0,
        "coverage_gap_weeks": 0,
        "primary_assigned": True,
        "secondary_assigned": False,
    }
    assert "org_id" not in r.columns
    assert r.extra == {"next_cursor": None}


def test_territories_pages_with_a_cursor(world: World, db: Engine) -> None:
    first = report(db, "territories", org_id=world.org_a, limit=3)
    assert [x["postcode_sector"] for x in first.rows] == ["B1 1", "EC1V 9", "M1 4"]
    cursor = first.extra["next_cursor"]
    assert isinstance(cursor, str)
    second = report(db, "territories", org_id=world.org_a, limit=3, cursor=cursor)
    assert [x["postcode_sector"] for x in second.rows] == ["SW1A 1"]
    assert second.extra["next_cursor"] is None
    assert second.summary == first.summary
    exact = report(db, "territories", org_id=world.org_a, limit=4)
    assert exact.extra["next_cursor"] is None


def test_all_organizations_page_through_equal_sectors_by_territory_id(
    world: World, db: Engine
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = report(db, "territories", limit=1, cursor=cursor)
        seen += [f"{x['postcode_sector']}/{x['org_id']}" for x in page.rows]
        cursor = page.extra["next_cursor"]
        if cursor is None:
            break
    sw1a = sorted([world.a1, world.b1], key=str)
    owner = {world.a1: world.org_a, world.b1: world.org_b}
    assert seen == [
        f"B1 1/{world.org_a}",
        f"EC1V 9/{world.org_a}",
        f"M1 4/{world.org_a}",
        *(f"SW1A 1/{owner[t]}" for t in sw1a),
    ]
    assert report(db, "territories").summary["total"] == 5


def test_territories_region_filter_any_case(world: World, db: Engine) -> None:
    r = report(db, "territories", org_id=world.org_a, region="london")
    assert [x["postcode_sector"] for x in r.rows] == ["EC1V 9", "SW1A 1"]
    # A1 and A3: 1 with a primary; utilization (60+0)/2 = 30.00; bookings 5; rejection 20.00
    assert r.summary == {
        "total": 2,
        "assigned": 1,
        "unassigned": 1,
        "average_utilization": Decimal("30.00"),
        "total_bookings": 5,
        "average_rejection_rate": Decimal("20.00"),
    }


@pytest.mark.parametrize(
    "bad",
    [
        "nonsense",
        "!!!",
        "W10=",
        "eyJhIjoxfQ",
        "WyIyMDI2LTAzLTE1IiwgIngiLCA1XQ",
        # a well-formed cursor whose sector holds a NUL (PostgreSQL cannot take it in text)
        "WyIyMDI2LTAzLTE1IiwgIlNXMUFcdTAwMDAgMSIsICIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDEiXQ",
    ],
)
def test_a_malformed_cursor_is_a_bad_request(world: World, db: Engine, bad: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        report(db, "territories", org_id=world.org_a, limit=2, cursor=bad)


def test_a_cursor_of_another_date_is_a_bad_request(world: World, db: Engine) -> None:
    cursor = report(db, "territories", org_id=world.org_a, limit=1).extra["next_cursor"]
    with pytest.raises(BadRequest, match="belongs to 2026-03-15"):
        report(db, "territories", org_id=world.org_a, date=day(-1), limit=1, cursor=cursor)


def test_latest_date_per_organization(world: World, db: Engine, settings: Settings) -> None:
    runs.run(DAILY, [day(1)], trigger="manual", engine=db, settings=settings, org_id=world.org_a)
    assert report(db, "territories", org_id=world.org_a).date == day(1)
    assert report(db, "territories", org_id=world.org_b).date == D
    # Every organization: day(1) was computed for A only, so D is the latest computed for all.
    assert report(db, "territories").date == D
    older = report(db, "territories", org_id=world.org_a, date=D)
    assert older.date == D and len(older.rows) == 4


def test_weekly_reports_wait_for_the_weekly_job(db: Engine, settings: Settings) -> None:
    w = build_weeks(db)
    runs.run("weekly-hiring-triggers", [S1, S2], trigger="manual", engine=db, settings=settings)
    # S3's daily rows exist (Monday 03:00) but the weekly job has not counted S3's weeks yet:
    # its counters read 0 there, so the reports must stay on S2 until the weekly job runs.
    runs.run(DAILY, [S3], trigger="manual", engine=db, settings=settings)
    assert report(db, "hiring-triggers", org_id=w.org_a).date == S2
    assert report(db, "coverage-gaps").date == S2
    # A weekly run limited to another organization does not count for this one.
    with db.begin() as conn:
        other = org(conn, "Elsewhere")
    runs.run(
        "weekly-hiring-triggers",
        [S3],
        trigger="manual",
        engine=db,
        settings=settings,
        org_id=other,
    )
    assert report(db, "hiring-triggers", org_id=w.org_a).date == S2
    runs.run("weekly-hiring-triggers", [S3], trigger="manual", engine=db, settings=settings)
    assert report(db, "hiring-triggers", org_id=w.org_a).date == S3
    assert report(db, "coverage-gaps", org_id=w.org_a).date == S3


def test_weekly_reports_never_fall_back_to_rows_when_the_weekly_job_never_ran(
    db: Engine, settings: Settings
) -> None:
    w = build_weeks(db)
    runs.run(DAILY, [S2, S3], trigger="manual", engine=db, settings=settings)
    # S3's rows exist, with counters the weekly job never set: not computed, not a report.
    for name in ("hiring-triggers", "coverage-gaps"):
        with pytest.raises(NotFound) as caught:
            report(db, name, org_id=w.org_a)
        assert str(caught.value).endswith(": run `opsmetrics run weekly-hiring-triggers`")
    assert report(db, "territories", org_id=w.org_a).date == S3


def test_no_data_yet(db: Engine) -> None:
    for name, job in (
        ("territories", DAILY),
        ("hiring-triggers", "weekly-hiring-triggers"),
        ("coverage-gaps", "weekly-hiring-triggers"),
    ):
        with pytest.raises(NotFound, match=f"^{name} has no computed date on or before "):
            report(db, name)
        with pytest.raises(NotFound, match=f"run `opsmetrics run {job}`$"):
            report(db, name)


# --- hiring triggers and coverage gaps ---------------------------------------------------------


@pytest.fixture
def weeks(db: Engine, settings: Settings) -> Weeks:
    w = build_weeks(db)
    runs.run("weekly-hiring-triggers", [S1, S2, S3], trigger="manual", engine=db, settings=settings)
    # a later daily row (Monday) must not move the weekly reports off the Sunday
    runs.run(DAILY, [S3.replace(day=16)], trigger="manual", engine=db, settings=settings)
    return w


def test_hiring_triggers_report(weeks: Weeks, db: Engine) -> None:
    r = report(db, "hiring-triggers", org_id=weeks.org_a)
    assert r.date == S3
    assert r.summary == {"critical": 5, "warning": 2, "info": 0, "total": 7}
    names = {str(t): n for n, t in weeks.ids.items()}
    assert [(names[x["territory_id"]], x["trigger_type"], x["severity"]) for x in r.rows] == [
        # most urgent first (see test_weekly_db.test_three_consecutive_weeks_reach_critical)
        ("G", "coverage_gap", "critical"),
        ("H", "high_utilization", "critical"),
        ("W", "coverage_gap", "critical"),
        ("W", "low_fulfillment", "critical"),
        ("G", "low_fulfillment", "critical"),
        ("R", "high_utilization", "warning"),
        ("Q", "high_utilization", "warning"),
    ]
    [group] = r.extra["by_region"]
    assert (group["region"], group["critical"], group["warning"], group["total"]) == (
        "North West",
        5,
        2,
        7,
    )
    assert len(group["triggers"]) == 7

    limited = report(db, "hiring-triggers", org_id=weeks.org_a, limit=2)
    assert limited.rows == r.rows[:2]  # the two most urgent: G's gap and H's overload
    assert limited.summary == r.summary  # counts still cover all 7
    assert limited.extra["truncated"] is True
    [group] = limited.extra["by_region"]
    assert (group["critical"], group["warning"], group["total"], len(group["triggers"])) == (
        5,
        2,
        7,
        2,
    )
    london = report(db, "hiring-triggers", org_id=weeks.org_a, region="London")
    assert (london.rows, london.summary["total"], london.extra["by_region"]) == ([], 0, [])


def test_weekly_reports_list_a_bounded_number_of_rows_by_default(
    weeks: Weeks, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsmetrics.territory import limits

    monkeypatch.setattr(limits, "DEFAULT_WEEKLY_ROWS", 3)
    r = report(db, "hiring-triggers", org_id=weeks.org_a)
    assert (len(r.rows), r.summary["total"], r.extra["truncated"]) == (3, 7, True)
    gaps = report(db, "coverage-gaps", org_id=weeks.org_a, include_low_volume=True)
    assert (len(gaps.rows), gaps.summary["total"], gaps.extra["truncated"]) == (3, 3, False)
    one = report(db, "coverage-gaps", org_id=weeks.org_a, limit=1)
    # G (70.00) first; the summary still counts both gaps that meet the volume
    assert (len(one.rows), one.summary["total"], one.extra["truncated"]) == (1, 2, True)


def test_the_trigger_prefilter_loses_nothing(weeks: Weeks, db: Engine) -> None:
    with db.connect() as conn:
        everything = evaluate(read_figures(conn, S3))
    r = report(db, "hiring-triggers", date=S3)
    # every organization's rows also carry the organization's name
    assert [{k: v for k, v in row.items() if k != "organization"} for row in r.rows] == [
        t.to_dict() for t in everything
    ]
    assert "org_id" in r.columns and "organization" in r.columns
    assert all(row["organization"] for row in r.rows)


def test_weekly_reports_refuse_a_weekday(weeks: Weeks, db: Engine) -> None:
    for name in ("hiring-triggers", "coverage-gaps"):
        with pytest.raises(BadRequest, match="Sunday before it is 2026-03-15"):
            report(db, name, date=S3.replace(day=18))


def test_coverage_gaps_report(weeks: Weeks, db: Engine) -> None:
    names = {str(t): n for n, t in weeks.ids.items()}
    r = report(db, "coverage-gaps", org_id=weeks.org_a)
    assert r.date == S3
    # G 70.00 (no secondary), W 30.00 (no primary); V (9 bookings) left out
    assert [
        (
            names[g["territory_id"]],
            g["severity"],
            g["rejection_rate"],
            g["recommended_action"],
            g["weeks_persisting"],
        )
        for g in r.rows
    ] == [
        ("G", "critical", 70.0, "Assign secondary medic", 3),
        ("W", "critical", 30.0, "Assign primary medic", 3),
    ]
    assert r.summary == {
        "critical": 2,
        "warning": 0,
        "total": 2,
        "low_volume": 1,
        "low_volume_included": False,
    }
    low = report(db, "coverage-gaps", org_id=weeks.org_a, include_low_volume=True)
    # V 33.33 is critical too and sorts between 70.00 and 30.00
    assert [(names[g["territory_id"]], g["note"]) for g in low.rows] == [
        ("G", None),
        ("V", "Only 9 bookings - monitor before acting"),
        ("W", None),
    ]
    assert low.rows[1]["recommended_action"] == "Consider hiring additional medic"
    assert low.summary["total"] == 3


def test_reports_of_an_unknown_organization_are_empty_not_errors(weeks: Weeks, db: Engine) -> None:
    # (the front doors check the organization exists; the builders just find nothing)
    other = uuid.UUID(int=7)
    assert report(db, "coverage-gaps", org_id=other).rows == []
    # The runs covered every organization: the latest daily one (Monday 16th) is its date too.
    unknown = report(db, "territories", org_id=other)
    assert (unknown.date, unknown.rows) == (S3.replace(day=16), [])
