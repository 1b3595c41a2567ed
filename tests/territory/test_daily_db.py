"""daily-territory-metrics against PostgreSQL, checked column by column against tests/territory/
fixture.py (the arithmetic is written there)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.errors import JobAlreadyRunning
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import daily
from tests.factories import job_runs as ledger
from tests.territory.fixture import D, World, bookings, build_world, count, day, metrics

JOB = "daily-territory-metrics"


@pytest.fixture
def world(db: Engine) -> World:
    return build_world(db)


def run_daily(engine: Engine, settings: Settings, **kw: object) -> RunSummary:
    return runs.run(JOB, [D], trigger="manual", engine=engine, settings=settings, **kw)  # type: ignore[arg-type]


def figures(row: dict[str, object]) -> tuple[object, ...]:
    return (
        row["total_bookings"],
        row["confirmed_bookings"],
        row["rejected_bookings"],
        row["rejection_rate"],
        row["fulfillment_rate"],
        row["primary_medic_utilization"],
        row["hiring_trigger_weeks"],
        row["coverage_gap_weeks"],
    )


EXPECTED = {
    # total, confirmed, rejected, rejection, fulfillment, utilization, weeks counters
    "a1": (5, 3, 1, Decimal("20.00"), Decimal("60.00"), Decimal("60.00"), 0, 0),
    "a2": (6, 4, 2, Decimal("33.33"), Decimal("66.67"), Decimal("80.00"), 0, 0),
    "a3": (0, 0, 0, None, None, Decimal("0.00"), 0, 0),
    "a4": (32, 31, 1, Decimal("3.13"), Decimal("96.88"), Decimal("100.00"), 0, 0),
    "b1": (2, 1, 1, Decimal("50.00"), Decimal("50.00"), Decimal("20.00"), 0, 0),
}


def test_every_column_of_every_territory(world: World, settings: Settings, db: Engine) -> None:
    summary = run_daily(db, settings)
    assert summary.ok
    rows = metrics(db)
    assert len(rows) == 5  # one per territory of every organization, quiet A3 included
    for name, expected in EXPECTED.items():
        row = rows[getattr(world, name)]
        assert figures(row) == expected, name
        assert row["metric_date"] == D
    assert {rows[world.a1]["org_id"], rows[world.b1]["org_id"]} == {world.org_a, world.org_b}
    assert rows[world.a1]["postcode_sector"] == rows[world.b1]["postcode_sector"] == "SW1A 1"
    assert rows[world.a3]["postcode_sector"] == "EC1V 9"


def test_stats_count_every_booking_once(world: World, settings: Settings, db: Engine) -> None:
    summary = run_daily(db, settings)
    stats = summary.runs[0].stats
    # the fixture's window totals: 54 = 45 counted + 1 cancelled + 3 unknown + 5 unmatched
    assert {
        k: stats[k]
        for k in (
            "territories_written",
            "bookings_in_window",
            "counted_bookings",
            "cancelled_bookings",
            "unknown_status_bookings",
            "malformed_postcode_bookings",
            "no_territory_bookings",
            "unmatched_bookings",
            "bad_rows",
            "rows_written",
        )
    } == {
        "territories_written": 5,
        "bookings_in_window": 54,
        "counted_bookings": 45,
        "cancelled_bookings": 1,
        "unknown_status_bookings": 3,
        "malformed_postcode_bookings": 3,
        "no_territory_bookings": 2,
        "unmatched_bookings": 5,
        "bad_rows": 8,  # 3 unknown + 5 unmatched
        "rows_written": 5,
    }
    assert stats["window_start"] == "2026-03-09" and stats["metric_date"] == "2026-03-15"
    assert isinstance(stats["duration_ms"], int)
    [row] = ledger(db)
    assert (row["job"], row["status"], row["target_date"]) == (JOB, "succeeded", D)
    assert row["stats"]["unmatched_bookings"] == 5


def test_bad_input_is_logged_once_with_samples(
    world: World, settings: Settings, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="opsmetrics"):
        run_daily(db, settings)
    [record] = [r for r in caplog.records if r.getMessage() == daily.BAD_INPUT_MESSAGE]
    assert (record.malformed_postcode_bookings, record.no_territory_bookings) == (3, 2)  # type: ignore[attr-defined]
    assert record.unknown_status_bookings == 3  # type: ignore[attr-defined]
    assert record.samples == {  # type: ignore[attr-defined]
        "malformed_postcodes": ["12345", "SW1A"],  # the first and last key of the organization
        "no_territory_sectors": ["M1 4", "ZZ9 9"],
        "unknown_statuses": ["CONFIRMED ", "no_show", "unknown"],
    }


def test_rerun_replaces_counts_and_keeps_weekly_counters(
    world: World, settings: Settings, db: Engine
) -> None:
    run_daily(db, settings)
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE territory_metrics SET hiring_trigger_weeks = 4, coverage_gap_weeks = 2"
                " WHERE territory_id = :t"
            ),
            {"t": world.a1},
        )
        # two more A1 bookings in the window: 1 confirmed, 1 rejected
        bookings(
            conn, world.org_a, [("SW1A 1AA", "confirmed", day(0)), ("sw1a1aa", "rejected", day(-6))]
        )
    before = metrics(db)
    run_daily(db, settings)
    after = metrics(db)
    assert len(after) == 5 and count(db, "territory_metrics") == 5  # no duplicates
    # A1: total 5+2 = 7, confirmed 3+1 = 4, rejected 1+1 = 2; 200/7 = 28.571 -> 28.57,
    # 400/7 = 57.142 -> 57.14, utilization 400/5 = 80.00; counters kept as 4 and 2
    assert figures(after[world.a1]) == (
        7,
        4,
        2,
        Decimal("28.57"),
        Decimal("57.14"),
        Decimal("80.00"),
        4,
        2,
    )
    for name in ("a2", "a3", "a4", "b1"):
        tid = getattr(world, name)
        assert figures(after[tid]) == EXPECTED[name]
        assert after[tid]["computed_at"] > before[tid]["computed_at"]


def test_rerun_without_changes_is_idempotent(world: World, settings: Settings, db: Engine) -> None:
    run_daily(db, settings)
    first = {k: figures(v) for k, v in metrics(db).items()}
    run_daily(db, settings)
    assert {k: figures(v) for k, v in metrics(db).items()} == first
    assert count(db, "territory_metrics") == 5
    assert [r["status"] for r in ledger(db)] == ["succeeded", "succeeded"]


def test_org_limits_reads_and_writes_to_one_organization(
    world: World, settings: Settings, db: Engine
) -> None:
    summary = run_daily(db, settings, org_id=str(world.org_b))
    rows = metrics(db)
    assert list(rows) == [world.b1]
    assert figures(rows[world.b1]) == EXPECTED["b1"]
    stats = summary.runs[0].stats
    # org B's window: 2 in B1 + 1 'M1 4AE' (no territory for B)
    assert (stats["bookings_in_window"], stats["no_territory_bookings"], stats["org_id"]) == (
        3,
        1,
        str(world.org_b),
    )


def test_a_failing_run_leaves_the_previous_rows_untouched(
    world: World, settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_daily(db, settings)
    before = metrics(db)
    with db.begin() as conn:
        bookings(conn, world.org_a, [("SW1A 1AA", "confirmed", day(0))])

    def explode(counts: daily.DayCounts) -> None:  # after the INSERT has run
        raise RuntimeError("disk full")

    monkeypatch.setattr(daily, "log_bad_input", explode)
    summary = run_daily(db, settings)
    assert summary.status == "failed" and "disk full" in (summary.runs[0].error or "")
    assert metrics(db) == before  # counts and computed_at as they were
    assert [r["status"] for r in ledger(db)] == ["succeeded", "failed"]


def test_window_edges(db: Engine, settings: Settings) -> None:
    """Only shift dates D-6 .. D count: D-7 and D+1 do not."""
    from tests.factories import org
    from tests.territory.fixture import territory

    with db.begin() as conn:
        o = org(conn)
        t = territory(conn, o, "N1 9", "London")
        bookings(
            conn,
            o,
            [("N1 9GU", "confirmed", day(k)) for k in (-7, -6, -3, 0, 1)],
        )
    run_daily(db, settings)
    # D-6, D-3, D: 3 confirmed -> utilization 300/5 = 60.00
    assert figures(metrics(db)[t])[:3] == (3, 3, 0)
    assert metrics(db)[t]["primary_medic_utilization"] == Decimal("60.00")


def test_concurrent_runs_of_one_date_take_turns(
    world: World, settings: Settings, db: Engine
) -> None:
    """A second run of the same date waits for the first, then runs; no 'running' row is left."""
    results: list[RunSummary] = []
    with db.connect() as blocker:
        blocker.begin()
        # Hold the output table so the first run stops inside its INSERT, holding its lock.
        blocker.execute(text("LOCK TABLE territory_metrics IN EXCLUSIVE MODE"))
        threads = [
            threading.Thread(target=lambda: results.append(run_daily(db, settings)))
            for _ in range(2)
        ]
        for th in threads:
            th.start()
            time.sleep(0.3)
        time.sleep(0.5)
        with db.connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM job_runs WHERE status = 'running'")
            ).scalar_one()
        blocker.rollback()
    for th in threads:
        th.join(30)
    assert waiting == 1  # only the lock holder had opened its ledger row
    assert sorted(r.status for r in results) == ["succeeded", "succeeded"]
    assert [r["status"] for r in ledger(db)] == ["succeeded", "succeeded"]
    assert count(db, "territory_metrics") == 5
    lock_waits = sorted(r.runs[0].stats["lock_wait_ms"] for r in results)
    assert lock_waits[1] >= 300  # the second one waited for the first


def test_a_second_run_gives_up_when_the_first_holds_the_date_too_long(
    world: World, settings: Settings, db: Engine
) -> None:
    impatient = replace(settings, lock_wait_s=1)
    outcome: list[object] = []
    with db.connect() as blocker:
        blocker.begin()
        blocker.execute(text("LOCK TABLE territory_metrics IN EXCLUSIVE MODE"))
        first = threading.Thread(target=lambda: outcome.append(run_daily(db, settings)))
        first.start()
        time.sleep(0.5)
        with pytest.raises(JobAlreadyRunning):
            run_daily(db, impatient)
        blocker.rollback()
    first.join(30)
    assert [r["status"] for r in ledger(db)] == ["succeeded"]  # the second left no row
