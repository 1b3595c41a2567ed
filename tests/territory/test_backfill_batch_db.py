"""A backfill of daily-territory-metrics in one pass (opsmetrics.batch, territory/batch.py) writes
exactly what the same dates run one by one write: the rows byte for byte (computed_at aside) and
each date's ledger stats, on data with every kind of bad row, on a first run and on a rerun that
must keep the weekly counters; a failing date still stops the dates after it."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import batch, runs
from opsmetrics.config import Settings
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import daily_sql
from tests.batch_checks import ledger_by_date, runs_per_date, table_digest
from tests.factories import refusing_writes
from tests.territory.fixture import D, World, bookings, build_world, day

JOB = "daily-territory-metrics"
DATES = [D - timedelta(days=n) for n in range(20, -4, -1)]  # 24 dates, D-20 .. D+3
POSTCODES = [
    "SW1A 1AA",
    "sw1a1ab",
    " SW1A 1ZZ ",
    "SW1A\t1AD",
    "M1 4AE",
    "m14bb",
    "B1 1AA",
    "b11ab",
    "EC1V 9AA",
    "N/A",
    "12345",
    "SW1A",
    "",
    "ZZ9 9ZZ",
    "M1 4AE ",
    "??",
]
STATUSES = [
    "pending",
    "confirmed",
    "completed",
    "completed",
    "rejected",
    "cancelled",
    "CONFIRMED ",
    "no_show",
    "unknown",
]


def _more_bookings(engine: Engine, world: World, seed: int = 13) -> None:
    """Bookings of every kind (good, malformed postcode, no territory, unknown status, blank)
    on every day of the span D-27 .. D+5, for both organizations."""
    rng = random.Random(seed)
    first = D - timedelta(days=27)
    entries: dict[Any, list[tuple[str, str, date]]] = {world.org_a: [], world.org_b: []}
    for n in range(400):
        org_id = world.org_a if n % 3 else world.org_b
        entries[org_id].append(
            (rng.choice(POSTCODES), rng.choice(STATUSES), first + timedelta(days=rng.randrange(33)))
        )
    with engine.begin() as conn:
        for org_id, rows in entries.items():
            bookings(conn, org_id, rows)


@pytest.fixture
def world(db: Engine) -> World:
    w = build_world(db)
    _more_bookings(db, w)
    return w


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    return (
        table_digest(engine, "territory_metrics", "territory_id, metric_date", {"computed_at"}),
        ledger_by_date(engine, JOB),
    )


def _one_by_one(engine: Engine, settings: Settings, dates: list[date], **kw: Any) -> None:
    for d in dates:
        summary = runs.run(JOB, [d], trigger="backfill", engine=engine, settings=settings, **kw)
        assert summary.ok and "batch" not in summary.runs[0].stats


def _batched(engine: Engine, settings: Settings, dates: list[date], **kw: Any) -> RunSummary:
    summary = runs.run(JOB, dates, trigger="backfill", engine=engine, settings=settings, **kw)
    assert summary.ok
    assert all(r.stats["batch"]["dates"] == len(dates) for r in summary.runs)  # one pass
    return summary


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE territory_metrics, job_runs"))


def _set_weekly_counters(engine: Engine) -> None:
    """What a weekly job leaves on the rows: counters a rerun must keep."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE territory_metrics SET hiring_trigger_weeks = 2, coverage_gap_weeks = 1"
                " WHERE extract(dow FROM metric_date) = 0"
            )
        )


def test_a_batch_writes_what_separate_runs_write_first_run_and_rerun(
    world: World, settings: Settings, db: Engine
) -> None:
    _one_by_one(db, settings, DATES)
    separate = _snapshot(db)
    _set_weekly_counters(db)
    _one_by_one(db, settings, DATES)
    separate_rerun = _snapshot(db)

    _reset(db)
    _batched(db, settings, DATES)
    batched = _snapshot(db)
    _set_weekly_counters(db)
    _batched(db, settings, DATES)
    batched_rerun = _snapshot(db)

    assert batched == separate
    assert batched_rerun == separate_rerun
    rows, _ = batched[0]
    assert rows == 5 * len(DATES)
    stats = batched[1][D.isoformat()][1]
    # D's window is the fixture's plus the extra bookings: every kind of bad row is there
    assert stats["unknown_status_bookings"] > 3 and stats["malformed_postcode_bookings"] > 3
    assert stats["no_territory_bookings"] > 2
    assert set(runs_per_date(db, JOB).values()) == {2}  # one ledger row per date and run


def test_one_organizations_batch_and_sparse_dates_match_separate_runs(
    world: World, settings: Settings, db: Engine
) -> None:
    dates = [day(-12), day(-11), day(-9), day(-3), day(0)]  # gaps inside a window: one pass
    _one_by_one(db, settings, dates, org_id=world.org_a)
    separate = _snapshot(db)
    _reset(db)
    _batched(db, settings, dates, org_id=world.org_a)
    assert _snapshot(db) == separate


def test_groups_too_big_to_pack_are_counted_exactly_in_a_batch(
    world: World, settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_by_one(db, settings, DATES[-8:])
    separate = _snapshot(db)
    _reset(db)
    monkeypatch.setattr(daily_sql, "PACK_BITS", 2)  # 0..3 per field: the fixture's 31 overflow
    _batched(db, settings, DATES[-8:])
    assert _snapshot(db) == separate


def test_a_failing_date_keeps_the_dates_before_it_and_stops_the_ones_after(
    world: World, settings: Settings, db: Engine
) -> None:
    dates = DATES[-6:]
    failing = dates[3]
    _one_by_one(db, settings, dates[:3])
    expected = table_digest(db, "territory_metrics", "territory_id, metric_date", {"computed_at"})
    _reset(db)
    progress: list[tuple[int, int, str]] = []
    with refusing_writes(db, "territory_metrics", "metric_date", failing.isoformat()):
        summary = runs.run(
            JOB,
            dates,
            trigger="backfill",
            engine=db,
            settings=settings,
            on_progress=lambda i, n, r: progress.append((i, n, r.status)),
        )
    assert [r.status for r in summary.runs] == [
        "succeeded",
        "succeeded",
        "succeeded",
        "failed",
        "skipped",
        "skipped",
    ]
    assert progress == [
        (1, 6, "succeeded"),
        (2, 6, "succeeded"),
        (3, 6, "succeeded"),
        (4, 6, "failed"),
        (5, 6, "skipped"),
        (6, 6, "skipped"),
    ]
    assert (
        table_digest(db, "territory_metrics", "territory_id, metric_date", {"computed_at"})
        == expected
    )
    ledger = ledger_by_date(db, JOB)
    assert [ledger[d.isoformat()][0] for d in dates[:4]] == ["succeeded"] * 3 + ["failed"]
    # one row per date that ran, none for the dates not run: as separate runs leave it
    assert runs_per_date(db, JOB) == {d.isoformat(): 1 for d in dates[:4]}
    with db.connect() as conn:
        errors = dict(
            (r.target_date, r.error)
            for r in conn.execute(
                text("SELECT target_date, error FROM job_runs WHERE status = 'failed'")
            )
        )
    assert list(errors) == [failing] and "refused by the test trigger" in errors[failing]


def test_progress_is_reported_for_every_date_of_a_batch(
    world: World, settings: Settings, db: Engine
) -> None:
    seen: list[tuple[int, int]] = []
    summary = runs.run(
        JOB,
        DATES[:5],
        trigger="backfill",
        engine=db,
        settings=settings,
        on_progress=lambda i, n, r: seen.append((i, n)),
    )
    assert summary.ok and seen == [(i, 5) for i in range(1, 6)]


def test_a_long_request_runs_in_monthly_passes_with_the_same_rows(
    world: World, settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_by_one(db, settings, DATES)
    separate = _snapshot(db)
    _reset(db)
    monkeypatch.setattr(batch, "MAX_DATES", 5)  # 24 dates: passes of 5, 5, 5, 5, 4
    seen: list[int] = []
    summary = runs.run(
        JOB,
        DATES,
        trigger="backfill",
        engine=db,
        settings=settings,
        on_progress=lambda i, n, r: seen.append(i),
    )
    assert summary.ok and seen == list(range(1, 25))
    assert [r.stats["batch"]["dates"] for r in summary.runs] == [5] * 20 + [4] * 4
    assert _snapshot(db) == separate


def test_chunks_are_consecutive_dates_cut_at_the_size_limit_and_at_wide_gaps() -> None:
    days = [D + timedelta(days=n) for n in (0, 1, 2, 9, 10, 30)]
    assert batch.chunks(days, max_dates=2) == [
        [days[0], days[1]],
        [days[2], days[3]],
        [days[4]],
        [days[5]],
    ]
    # a gap of 7 days stays in the pass (the windows overlap); 20 days starts a new one
    assert batch.chunks(days) == [days[:5], [days[5]]]
