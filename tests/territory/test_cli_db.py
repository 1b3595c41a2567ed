"""The command line end to end (`opsmetrics.cli.main`), against PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import EXIT_BAD_REQUEST, main
from tests.factories import job_runs as ledger
from tests.territory.fixture import World, build_world, count, metrics
from tests.territory.test_weekly_db import S1, S2, S3, Weeks, build_weeks, counters


def cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse mistakes
        return int(exc.code or 0)


@pytest.fixture
def world(db_env: Engine) -> World:
    return build_world(db_env)


def test_run_daily_for_a_date(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", "daily-territory-metrics", "--date", "2026-03-15"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("daily-territory-metrics 2026-03-15 succeeded: ")
    assert "territories_written 5" in out and "unmatched_bookings 5" in out
    assert metrics(db_env)[world.a4]["rejection_rate"] == Decimal("3.13")
    [row] = ledger(db_env)
    assert (row["trigger"], row["status"]) == ("manual", "succeeded")


def test_backfill_runs_each_day_in_order_with_progress(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        ["run", "daily-territory-metrics", "--from", "2026-03-13", "--to", "2026-03-15", "--json"]
    )
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert [r["target_date"] for r in summary["runs"]] == ["2026-03-13", "2026-03-14", "2026-03-15"]
    assert "3/3 2026-03-15 succeeded" in captured.err  # the progress bar
    rows = ledger(db_env)
    assert [(r["target_date"].isoformat(), r["trigger"]) for r in rows] == [
        ("2026-03-13", "backfill"),
        ("2026-03-14", "backfill"),
        ("2026-03-15", "backfill"),
    ]
    assert count(db_env, "territory_metrics") == 15  # 5 territories x 3 days


def test_weekly_backfill_runs_each_sunday(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    w: Weeks = build_weeks(db_env)
    assert (
        cli(
            [
                "run",
                "weekly-hiring-triggers",
                "--from",
                "2026-02-27",
                "--to",
                "2026-03-17",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert [r["target_date"] for r in summary["runs"]] == [str(S1), str(S2), str(S3)]
    assert summary["runs"][2]["result"]["counts"]["critical"] == 5
    assert counters(db_env, w, S3)["H"] == (3, 0)


def test_org_option(world: World, db_env: Engine) -> None:
    assert (
        cli(["run", "daily-territory-metrics", "--date", "2026-03-15", "--org", str(world.org_b)])
        == 0
    )
    assert list(metrics(db_env)) == [world.b1]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "no-such-job", "--date", "2026-03-15"],
        ["run", "daily-territory-metrics", "--date", "15/03/2026"],
        ["run", "daily-territory-metrics", "--from", "2026-03-15", "--to", "2026-03-01"],
        ["run", "daily-territory-metrics", "--from", "2026-03-15"],
        ["run", "daily-territory-metrics", "--date", "2026-03-15", "--org", str(uuid.UUID(int=9))],
        ["run", "daily-territory-metrics", "--date", "2026-03-15", "--org", "acme"],
        ["run", "weekly-hiring-triggers", "--date", "2026-03-14"],
        ["run", "weekly-hiring-triggers", "--from", "2026-03-09", "--to", "2026-03-14"],
        ["report", "territories", "--org", str(uuid.UUID(int=9))],
        ["report", "hiring-triggers", "--date", "2026-03-14"],
        ["report", "coverage-gaps", "--date", "2026-3-15"],
    ],
)
def test_bad_requests_exit_2_with_one_line_and_write_nothing(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert cli(argv) == EXIT_BAD_REQUEST
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert count(db_env, "job_runs") == 0
    assert count(db_env, "territory_metrics") == 0


def test_reports_in_every_format(
    world: World, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # The weekly job fills in the Sunday's missing daily rows, but only a run of the daily job
    # makes the date computed for the territories report (spec §7).
    assert cli(["run", "daily-territory-metrics", "--date", "2026-03-15"]) == 0
    assert cli(["run", "weekly-hiring-triggers", "--date", "2026-03-15"]) == 0
    capsys.readouterr()
    org_a = str(world.org_a)

    assert cli(["report", "territories", "--org", org_a, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["report"], doc["date"], doc["next_cursor"]) == ("territories", "2026-03-15", None)
    assert doc["summary"]["average_rejection_rate"] == 18.82  # (20 + 33.33 + 3.13) / 3
    assert [r["postcode_sector"] for r in doc["rows"]] == ["B1 1", "EC1V 9", "M1 4", "SW1A 1"]

    assert cli(["report", "territories", "--org", org_a, "--format", "csv", "--limit", "2"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["postcode_sector"], r["rejection_rate"]) for r in table] == [
        ("B1 1", "3.13"),
        ("EC1V 9", ""),
    ]

    assert cli(["report", "territories", "--region", "London"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("territories — 2026-03-15")
    assert "total: 3" in out  # A1, A3 and B1 are in London

    # M1 4 at 80% and B1 1 at 100% (first counted week): two warnings
    assert cli(["report", "hiring-triggers", "--org", org_a, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"critical": 0, "warning": 2, "info": 0, "total": 2}
    # regions in the order of their most urgent trigger: B1 1's (1 week, 30 points over)
    assert [g["region"] for g in doc["by_region"]] == ["West Midlands", "North West"]

    # B1 (org B): 50.00% of 2, A2: 33.33% of 6 (critical), A1: 20.00% of 5 (warning);
    # all under 10 bookings, so only listed with --include-low-volume
    assert cli(["report", "coverage-gaps", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1:] == []
    assert cli(["report", "coverage-gaps", "--include-low-volume", "--format", "csv"]) == 0
    gaps = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(g["postcode_sector"], g["rejection_rate"], g["note"]) for g in gaps] == [
        ("SW1A 1", "50.00", "Only 2 bookings - monitor before acting"),
        ("M1 4", "33.33", "Only 6 bookings - monitor before acting"),
        ("SW1A 1", "20.00", "Only 5 bookings - monitor before acting"),
    ]
    assert [g["severity"] for g in gaps] == ["critical", "critical", "warning"]


def test_a_monday_for_the_weekly_job_is_refused_in_its_own_words(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", "weekly-hiring-triggers", "--date", "2026-03-16"]) == EXIT_BAD_REQUEST
    assert capsys.readouterr().err == (
        "opsmetrics run: weekly-hiring-triggers takes a week-ending Sunday; date 2026-03-16 is a"
        " Monday (the Sunday before it is 2026-03-15)\n"
    )
