"""How the daily job counts and writes: packed status counts and their exact fallback; the sums in
a temporary table (and without one); the plain INSERT of a date without rows next to the weekly
job's catch-up of the same date."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics.config import Settings
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import daily, daily_sql
from opsmetrics.territory.rules import KNOWN_STATUSES
from tests.factories import org
from tests.territory.fixture import D, World, bookings, build_world, day, metrics
from tests.territory.test_daily_db import EXPECTED, figures, run_daily


@pytest.fixture
def world(db: Engine) -> World:
    return build_world(db)


def test_the_case_order_and_the_classes_cover_exactly_the_known_statuses() -> None:
    assert sorted(daily_sql.CASE_ORDER) == sorted(KNOWN_STATUSES)
    in_classes = [s for _, statuses in daily_sql.STATUS_CLASSES for s in statuses]
    assert sorted(in_classes) == sorted(KNOWN_STATUSES)


def _per_key(db: Engine, *, packed: bool) -> dict[str, tuple[Any, ...]]:
    first, last = daily_sql.window(D)
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pc_key, n_all, n_pending, n_confirmed, n_rejected, n_cancelled"
                f" FROM ({daily_sql.per_key_sql('', packed=packed)}) k"
            ),
            {"first_day": first, "last_day": last},
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_packed_counts_are_exact_up_to_the_field_limit(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3-bit fields hold 0..7: each class filled to the brim, one group mixing every class, and
    # one group of 8 bookings, too big to pack.
    monkeypatch.setattr(daily_sql, "PACK_BITS", 3)
    with db.begin() as conn:
        o = org(conn)
        bookings(conn, o, [("AA1 1AA", "pending", day(0))], repeat=7)
        bookings(conn, o, [("BB1 1BB", "confirmed", day(0))], repeat=4)
        bookings(conn, o, [("BB1 1BB", "completed", day(-6))], repeat=3)
        bookings(conn, o, [("CC1 1CC", "rejected", day(-1))], repeat=7)
        bookings(conn, o, [("DD1 1DD", "cancelled", day(-2))], repeat=7)
        mixed = ("pending", "pending", "confirmed", "completed", "rejected", "cancelled", "no_show")
        bookings(conn, o, [("EE1 1EE", status, day(-3)) for status in mixed])
        bookings(conn, o, [("FF1 1FF", "completed", day(0))], repeat=8)
    expected = {
        # n_all, pending, confirmed (+ completed), rejected, cancelled
        "AA11AA": (7, 7, 0, 0, 0),
        "BB11BB": (7, 0, 7, 0, 0),  # 4 confirmed + 3 completed
        "CC11CC": (7, 0, 0, 7, 0),
        "DD11DD": (7, 0, 0, 0, 7),
        "EE11EE": (7, 2, 2, 1, 1),  # 2 + 2 + 1 + 1 = 6 known, 1 unknown (no_show)
    }
    packed = _per_key(db, packed=True)
    exact = _per_key(db, packed=False)
    assert {k: v for k, v in packed.items() if k != "FF11FF"} == expected
    assert packed["FF11FF"] == (8, None, None, None, None)  # 8 > 7: not packed
    assert exact == {**expected, "FF11FF": (8, 0, 8, 0, 0)}


def test_a_group_too_big_to_pack_makes_the_day_counted_exactly(
    world: World, settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2-bit fields hold 0..3; the fixture's 'B11AA' group has 31 bookings.
    monkeypatch.setattr(daily_sql, "PACK_BITS", 2)
    calls: list[bool] = []
    real_write_sql = daily_sql.write_sql

    def spy(**kw: Any) -> str:
        calls.append(kw["packed"])
        return real_write_sql(**kw)

    monkeypatch.setattr(daily_sql, "write_sql", spy)
    summary = run_daily(db, settings)
    assert calls == [True, False]  # the packed statement wrote nothing; the exact one wrote all
    assert summary.ok
    rows = metrics(db)
    assert {name: figures(rows[getattr(world, name)]) for name in EXPECTED} == EXPECTED
    stats = summary.runs[0].stats
    # as in test_stats_count_every_booking_once: 54 = 45 + 1 + 3 + 5
    assert (stats["territories_written"], stats["bookings_in_window"]) == (5, 54)
    assert (stats["counted_bookings"], stats["cancelled_bookings"]) == (45, 1)
    assert (stats["unknown_status_bookings"], stats["unmatched_bookings"]) == (3, 5)


def test_a_daily_run_waits_for_the_weekly_catch_up_of_its_date(
    world: World, settings: Settings, db: Engine
) -> None:
    """The weekly job's catch-up has inserted D's rows but not committed: the daily run must not
    decide 'no rows yet' (its plain INSERT would then hit them); it waits, then updates them."""
    results: list[RunSummary] = []
    with db.connect() as weekly:
        weekly.begin()
        caught_up = daily.write_day(weekly, D, only_missing=True)
        assert caught_up.territories_written == 5
        th = threading.Thread(target=lambda: results.append(run_daily(db, settings)))
        th.start()
        time.sleep(0.5)
        waited = th.is_alive()
        weekly.commit()
    th.join(30)
    assert waited
    [summary] = results
    assert summary.ok, summary.runs[0].error
    assert summary.runs[0].stats["territories_written"] == 5  # updated, not inserted twice
    rows = metrics(db)
    assert {name: figures(rows[getattr(world, name)]) for name in EXPECTED} == EXPECTED


def test_runs_after_one_organizations_run_write_every_territory(
    world: World, settings: Settings, db: Engine
) -> None:
    """Rows of org B only (an --org run): the next run of all organizations updates B's row and
    inserts A's four; an --org A run then updates A's rows only."""
    run_daily(db, settings, org_id=str(world.org_b))
    before_b = metrics(db)[world.b1]["computed_at"]
    everyone = run_daily(db, settings)
    assert everyone.runs[0].stats["territories_written"] == 5
    rows = metrics(db)
    assert {name: figures(rows[getattr(world, name)]) for name in EXPECTED} == EXPECTED
    assert rows[world.b1]["computed_at"] > before_b
    only_a = run_daily(db, settings, org_id=str(world.org_a))
    assert only_a.runs[0].stats["territories_written"] == 4
    after = metrics(db)
    assert after[world.b1]["computed_at"] == rows[world.b1]["computed_at"]  # B untouched
    assert {name: figures(after[getattr(world, name)]) for name in EXPECTED} == EXPECTED


def test_the_sums_can_be_made_in_the_writing_statement(
    world: World, settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PARALLEL_WORKERS = 0: no temporary table, one statement does it all; same rows."""
    monkeypatch.setattr(daily, "PARALLEL_WORKERS", 0)
    summary = run_daily(db, settings)
    assert summary.ok
    rows = metrics(db)
    assert {name: figures(rows[getattr(world, name)]) for name in EXPECTED} == EXPECTED
    stats = summary.runs[0].stats
    assert (stats["bookings_in_window"], stats["counted_bookings"], stats["bad_rows"]) == (
        54,
        45,
        8,
    )


def test_the_temporary_table_and_the_parallel_settings_end_with_the_write(
    world: World, db: Engine
) -> None:
    """The weekly job goes on in the same transaction: it finds no table and its own settings."""
    names = ["max_parallel_workers_per_gather", *daily.PARALLEL_SETTINGS]
    with db.connect() as conn:
        conn.begin()
        before = conn.execute(text(_SETTINGS_SQL), {"n": names}).all()
        daily.write_day(conn, D)
        after = conn.execute(text(_SETTINGS_SQL), {"n": names}).all()
        table = conn.execute(text(f"SELECT to_regclass('pg_temp.{daily_sql.SUMS_TABLE}')")).scalar()
        conn.rollback()
    assert after == before
    assert ("parallel_setup_cost", "1000") in before  # PostgreSQL's default, not the job's 0
    assert table is None


_SETTINGS_SQL = (
    "SELECT name, current_setting(name) FROM unnest(CAST(:n AS text[])) AS name ORDER BY 1"
)


def test_without_the_temporary_privilege_the_sums_are_made_in_the_writing_statement(
    world: World, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"opsmetrics_no_temp_{uuid.uuid4().hex[:12]}"
    with db.begin() as conn:
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        conn.execute(
            text(
                f"GRANT SELECT ON organizations, territories, bookings, territory_metrics TO {role}"
            )
        )
        conn.execute(text(f"GRANT INSERT, UPDATE ON territory_metrics TO {role}"))
        conn.execute(text(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC'))
    calls: list[bool] = []
    real_write_sql = daily_sql.write_sql

    def spy(**kw: Any) -> str:
        calls.append(kw["sums_table"])
        return real_write_sql(**kw)

    monkeypatch.setattr(daily_sql, "write_sql", spy)
    try:
        with db.connect() as conn:
            conn.begin()
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            counts = daily.write_day(conn, D)
            conn.commit()
    finally:
        with db.begin() as conn:
            conn.execute(text(f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC'))
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
    assert calls == [False]  # the CREATE TEMPORARY TABLE was refused: no table to read
    assert (counts.territories_written, counts.counted_bookings) == (5, 45)
    rows = metrics(db)
    assert {name: figures(rows[getattr(world, name)]) for name in EXPECTED} == EXPECTED
