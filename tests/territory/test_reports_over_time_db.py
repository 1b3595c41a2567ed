"""Reports over time (spec §7) for the territory reports, on hand-built ledgers.

The daily job really runs for D (the fixture's Sunday 2026-03-15); every other date's rows are
copies of D's, and the job_runs rows around them are written by hand (tests/factories.record_run),
so each test says exactly which runs exist: succeeded, failed, for every organization or one.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.cli import EXIT_BAD_REQUEST, main
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest, NotFound
from opsmetrics.jobs import JOBS
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.reports.registry import build
from tests.factories import record_run
from tests.territory.fixture import D, World, build_world, day

DAILY = "daily-territory-metrics"
WEEKLY = "weekly-hiring-triggers"
TODAY = day(1)  # Monday 2026-03-16: the daily job expects D, the weekly job D too
FAR_FUTURE = date(9999, 12, 31)
AT = datetime(2026, 3, 16, 3, 0, 12, tzinfo=UTC)


def report(engine: Engine, name: str, **params: Any) -> Report:
    params.setdefault("today", TODAY)
    with engine.connect() as conn:
        return build(conn, name, ReportParams(**params))


def copy_rows(engine: Engine, to: date) -> None:
    """D's territory_metrics rows again under another date, as if something had written them."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO territory_metrics (territory_id, org_id, postcode_sector,"
                " metric_date, total_bookings, confirmed_bookings, rejected_bookings,"
                " rejection_rate, fulfillment_rate, primary_medic_utilization,"
                " hiring_trigger_weeks, coverage_gap_weeks, computed_at)"
                " SELECT territory_id, org_id, postcode_sector, :to, total_bookings,"
                " confirmed_bookings, rejected_bookings, rejection_rate, fulfillment_rate,"
                " primary_medic_utilization, hiring_trigger_weeks, coverage_gap_weeks, now()"
                " FROM territory_metrics WHERE metric_date = :d"
            ),
            {"to": to, "d": D},
        )


def record(engine: Engine, job: str, when: date, **kwargs: Any) -> uuid.UUID:
    with engine.begin() as conn:
        return record_run(conn, job, when, **kwargs)


def finished_at(engine: Engine, run_id: str | None) -> datetime:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT finished_at FROM job_runs WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    assert isinstance(value, datetime)
    return value


@pytest.fixture
def world(db: Engine, settings: Settings) -> World:
    w = build_world(db)
    summary = runs.run(DAILY, [D], trigger="manual", engine=db, settings=settings)
    assert summary.ok
    return w


# --- the default date ---------------------------------------------------------------------------


def test_default_date_ignores_far_future_failed_and_unrecorded_rows(
    world: World, db: Engine
) -> None:
    # A run for a mistyped far-future date (from before dates were bounded), a failed run the
    # day after D, and rows no run recorded two days after: all with rows, none a default.
    copy_rows(db, FAR_FUTURE)
    record(db, DAILY, FAR_FUTURE)
    copy_rows(db, day(1))
    record(db, DAILY, day(1), status="failed")
    copy_rows(db, day(2))
    for scope in (world.org_a, None):
        assert report(db, "territories", org_id=scope).date == D
    # A date computed later than today is not "on or before today" either.
    assert report(db, "territories", org_id=world.org_a, today=day(5)).date == D
    record(db, DAILY, day(2))
    assert report(db, "territories", org_id=world.org_a, today=day(5)).date == day(2)
    assert report(db, "territories", org_id=world.org_a, today=day(1)).date == D


def test_default_weekly_date_is_the_latest_sunday_the_weekly_job_computed(
    world: World, db: Engine
) -> None:
    copy_rows(db, day(-7))
    record(db, WEEKLY, day(-7))
    record(db, WEEKLY, D, status="failed")
    for name in ("hiring-triggers", "coverage-gaps"):
        assert report(db, name, org_id=world.org_a).date == day(-7)
    # A run limited to organization B covers B only.
    record(db, WEEKLY, D, org_id=world.org_b)
    assert report(db, "hiring-triggers", org_id=world.org_b).date == D
    assert report(db, "hiring-triggers", org_id=world.org_a).date == day(-7)
    assert report(db, "hiring-triggers").date == day(-7)


# --- not computed -------------------------------------------------------------------------------


def test_a_date_its_job_never_computed_is_not_found_naming_the_command(
    world: World, db: Engine
) -> None:
    copy_rows(db, day(-7))  # rows, but no run
    record(db, DAILY, day(-7), status="failed")
    with pytest.raises(NotFound) as caught:
        report(db, "territories", org_id=world.org_a, date=day(-7))
    assert str(caught.value) == (
        "territories for 2026-03-08 was not computed:"
        " run `opsmetrics run daily-territory-metrics --date 2026-03-08`"
    )
    # The weekly job never ran at all: D's rows exist, its counters were never computed.
    for name in ("hiring-triggers", "coverage-gaps"):
        with pytest.raises(NotFound) as weekly:
            report(db, name, org_id=world.org_a, date=D)
        assert str(weekly.value) == (
            f"{name} for 2026-03-15 was not computed:"
            " run `opsmetrics run weekly-hiring-triggers --date 2026-03-15`"
        )
    # Computed for B only: still not computed for A, nor for every organization.
    record(db, DAILY, day(-7), org_id=world.org_b)
    assert report(db, "territories", org_id=world.org_b, date=day(-7)).date == day(-7)
    for scope in (world.org_a, None):
        with pytest.raises(NotFound, match="was not computed"):
            report(db, "territories", org_id=scope, date=day(-7))


@pytest.mark.parametrize(
    ("name", "asked"),
    [
        ("territories", date(1999, 12, 31)),
        ("territories", TODAY + timedelta(days=367)),
        ("hiring-triggers", date(1999, 12, 26)),  # a Sunday, before 2000-01-01
        ("coverage-gaps", date(2027, 3, 21)),  # a Sunday, more than 366 days after TODAY
    ],
)
def test_dates_outside_the_valid_dates_are_bad_requests(
    world: World, db: Engine, name: str, asked: date
) -> None:
    with pytest.raises(BadRequest, match="outside the valid dates 2000-01-01 to 2027-03-17"):
        report(db, name, org_id=world.org_a, date=asked)


# --- as_of and stale ----------------------------------------------------------------------------


def test_as_of_is_when_the_run_that_wrote_the_data_finished(
    world: World, db: Engine, settings: Settings
) -> None:
    first = report(db, "territories", org_id=world.org_a)
    assert first.freshness is not None
    with db.connect() as conn:
        run_id = conn.execute(text("SELECT id FROM job_runs")).scalar_one()
    assert first.freshness.as_of == finished_at(db, str(run_id))
    # A rerun for A alone rewrites A's rows: A's as_of moves, B's stays with the first run.
    again = runs.run(DAILY, [D], trigger="manual", engine=db, settings=settings, org_id=world.org_a)
    later = finished_at(db, again.runs[0].run_id)
    a = report(db, "territories", org_id=world.org_a).freshness
    b = report(db, "territories", org_id=world.org_b).freshness
    assert a is not None and b is not None
    assert (a.as_of, b.as_of) == (later, first.freshness.as_of)
    # By hand: the JSON carries it as ISO-8601 UTC to the second.
    copy_rows(db, day(-7))
    record(db, DAILY, day(-7), finished_at=AT)
    doc = report(db, "territories", org_id=world.org_a, date=day(-7)).to_dict()
    assert doc["as_of"] == "2026-03-16T03:00:12Z"


def test_stale_when_the_expected_date_has_no_succeeded_run(world: World, db: Engine) -> None:
    def stale(name: str, today: date, org_id: uuid.UUID | None = world.org_a) -> bool:
        fresh = report(db, name, org_id=org_id, today=today).freshness
        assert fresh is not None
        return fresh.stale

    # Daily: the expected date is yesterday.
    assert stale("territories", day(1)) is False  # D computed
    assert stale("territories", day(2)) is True  # day(1) expected, never run
    record(db, DAILY, day(1), status="failed")
    assert stale("territories", day(2)) is True  # a failed run does not count
    record(db, DAILY, day(1), org_id=world.org_a)
    assert stale("territories", day(2)) is False  # A's own run covers A...
    assert stale("territories", day(2), world.org_b) is True  # ...not B
    assert stale("territories", day(2), None) is True  # ...nor every organization
    record(db, DAILY, day(1))
    assert stale("territories", day(2), None) is False
    # Weekly: the expected date is the latest Sunday before today.
    record(db, WEEKLY, D)
    assert stale("hiring-triggers", day(1)) is False  # Monday: expects D
    assert stale("coverage-gaps", day(7)) is False  # the next Sunday still expects D
    assert stale("hiring-triggers", day(8)) is True  # the Monday after expects day(7)
    fresh = report(db, "hiring-triggers", org_id=world.org_a, today=day(8)).freshness
    assert fresh is not None and (fresh.job, fresh.expected) == (WEEKLY, day(7))


# --- the command line ---------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse mistakes
        return int(exc.code or 0)


def test_cli_a_sunday_never_computed_exits_2_and_prints_no_report(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # The scenario: data the weekly job never computed for 2020-01-05 (here: rows of
    # zeros that something wrote, and a failed run) used to come out as a report of zeros.
    copy_rows(db_env, date(2020, 1, 5))
    record(db_env, WEEKLY, date(2020, 1, 5), status="failed")
    record(db_env, WEEKLY, D)
    for fmt in ("table", "json", "csv"):
        argv = ["report", "hiring-triggers", "--date", "2020-01-05", "--format", fmt]
        assert cli(argv) == EXIT_BAD_REQUEST
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (
            "opsmetrics report: hiring-triggers for 2020-01-05 was not computed:"
            " run `opsmetrics run weekly-hiring-triggers --date 2020-01-05`\n"
        )
    assert cli(["report", "coverage-gaps", "--date", "1999-12-26"]) == EXIT_BAD_REQUEST
    assert "outside the valid dates" in capsys.readouterr().err


def test_cli_json_and_table_carry_as_of_and_stale(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).date()
    expected = JOBS[DAILY].target_for(today)
    org_a = str(world.org_a)
    with db_env.begin() as conn:
        conn.execute(text("UPDATE job_runs SET finished_at = :at"), {"at": AT})

    assert cli(["report", "territories", "--org", org_a, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["date"], doc["as_of"], doc["stale"]) == ("2026-03-15", "2026-03-16T03:00:12Z", True)
    assert cli(["report", "territories", "--org", org_a]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "territories — 2026-03-15 (as of 2026-03-16T03:00:12Z)",
        f"  stale: yes: daily-territory-metrics has not computed {expected}",
    ]

    record(db_env, DAILY, expected, finished_at=AT + timedelta(days=1))
    assert cli(["report", "territories", "--org", org_a, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["date"], doc["as_of"], doc["stale"]) == (
        expected.isoformat(),
        "2026-03-17T03:00:12Z",
        False,
    )
    assert cli(["report", "territories", "--org", org_a]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "  stale: no"
