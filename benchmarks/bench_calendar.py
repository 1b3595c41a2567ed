r"""Benchmark the calendar (docs/calendar.md) on uk-scale data, each figure beside a baseline
measured in the same run.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench
    opsmetrics seed --scale uk --anchor-date 2026-11-29     # once
    .venv/bin/python benchmarks/bench_calendar.py --anchor 2026-11-29 [--repeat 5]

1. Catch-up: each daily job's scheduled run with 14 due dates (15 runs in one request) against
   15 times the median of a single-date run of the same job. Target: about 1x (the catch-up
   adds one ledger query to the dates' own cost).
2. The weekly chain's forward recompute: the counters of 52 computed Sundays (the anchor's
   territory rows copied to the 51 Sundays before it with varied utilization and rejection, and
   a succeeded weekly run for each), carried forward from the first Sunday in one statement;
   against the same recompute as a loop of one-week statements, and a bare scan of those rows.
   Target: under 2 s, one statement. Rolled back: the data stays as it was.
3. `status` and `runs` over a ledger of 100,000 job_runs rows (synthetic years of history, in a
   transaction rolled back at the end): p95 of each against a bare count(*) of job_runs.
   Target: p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.db import build_engine
from opsmetrics.ledger import RunRequest
from opsmetrics.territory import streaks

DAILY_JOBS = ("daily-territory-metrics", "daily-trend-aggregation")
WEEKLY = "weekly-hiring-triggers"
HORIZON = 14
WEEKS = 52
LEDGER_ROWS = 100_000


def _ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _forget(engine: Engine, job: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs WHERE job = :job"), {"job": job})


def _seed_earliest(engine: Engine, job: str, day: date) -> None:
    """One succeeded run long ago: the calendar starts there, so every date since is due."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (job, target_date, trigger, status, started_at,"
                " finished_at) VALUES (:job, :day, 'backfill', 'succeeded', now(), now())"
            ),
            {"job": job, "day": day},
        )


def catch_up(engine: Engine, settings: Settings, anchor: date, repeat: int) -> None:
    print(f"1. catch-up of {HORIZON} due dates + the target, per daily job")
    target = anchor
    dates = [target - timedelta(days=d) for d in range(HORIZON, -1, -1)]

    def catching_up(job: str) -> float:
        _forget(engine, job)
        _seed_earliest(engine, job, target - timedelta(days=HORIZON + 6))
        started = time.perf_counter()
        summary = runs.run(
            job,
            [target],
            trigger="schedule",
            engine=engine,
            settings=settings,
            catch_up=True,
            request=RunRequest("schedule"),
            today=target + timedelta(days=1),
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert summary.ok and len(summary.runs) == len(dates), summary.to_dict()
        return elapsed

    def one_by_one(job: str) -> float:
        started = time.perf_counter()
        for day in dates:
            runs.run(job, [day], trigger="manual", engine=engine, settings=settings)
        return (time.perf_counter() - started) * 1000

    for job in DAILY_JOBS:
        catching_up(job)  # warm-up: every date's rows exist from here on, for both contenders
        separate, together = [], []
        for _ in range(max(1, repeat // 2)):
            separate.append(one_by_one(job))
            together.append(catching_up(job))
        one, all_ = statistics.median(separate), statistics.median(together)
        print(
            f"   {job}: catch-up {all_ / 1000:.2f} s for {len(dates)} dates;"
            f" the same dates as {len(dates)} separate runs {one / 1000:.2f} s"
            f" -> {all_ / one:.2f}x (median of {len(separate)})"
        )


_COPY_SUNDAYS = """
INSERT INTO territory_metrics AS m (
    territory_id, org_id, postcode_sector, metric_date, total_bookings, confirmed_bookings,
    rejected_bookings, rejection_rate, fulfillment_rate, primary_medic_utilization,
    hiring_trigger_weeks, coverage_gap_weeks, computed_at)
SELECT s.territory_id, s.org_id, s.postcode_sector, w.day, s.total_bookings,
       s.confirmed_bookings, s.rejected_bookings,
       -- deterministic variety: some weeks break a territory's streaks, most do not
       CASE WHEN mod(abs(hashtext(s.territory_id::text || w.day::text)), 5) = 0 THEN 0
            ELSE s.rejection_rate END,
       s.fulfillment_rate,
       CASE WHEN mod(abs(hashtext(w.day::text || s.territory_id::text)), 4) = 0 THEN 50
            ELSE s.primary_medic_utilization END,
       0, 0, now()
FROM territory_metrics s
CROSS JOIN (SELECT CAST(:first AS date) + 7 * g AS day FROM generate_series(0, :n - 2) g) w
WHERE s.metric_date = :anchor
ON CONFLICT (territory_id, metric_date) DO NOTHING
"""


def forward(engine: Engine, settings: Settings, anchor: date, repeat: int) -> None:
    first = anchor - timedelta(weeks=WEEKS - 1)
    sundays = [first + timedelta(weeks=i) for i in range(WEEKS)]
    print(f"2. forward recompute of {WEEKS - 1} later Sundays from {first}")
    runs.run(WEEKLY, [anchor], trigger="manual", engine=engine, settings=settings)
    with engine.begin() as conn:
        conn.execute(text(_COPY_SUNDAYS), {"first": first, "n": WEEKS, "anchor": anchor})
    _vacuum(engine)
    weeks_seen = 0

    def one_statement(conn: Connection) -> None:
        nonlocal weeks_seen
        weeks_seen = streaks.carry_forward(conn, first, sundays[1:], None)["weeks_recomputed"]

    def loop(conn: Connection) -> None:
        for sunday in sundays[1:]:
            streaks.update_week(conn, sunday, None)

    def bare(conn: Connection) -> None:
        conn.execute(
            text(
                "SELECT count(*), sum(primary_medic_utilization), sum(rejection_rate)"
                " FROM territory_metrics WHERE metric_date = ANY(CAST(:days AS date[]))"
            ),
            {"days": [d.isoformat() for d in sundays]},
        ).one()

    def correction(conn: Connection) -> None:
        # 1 % of territories lose the first Sunday's overload: their later streaks restart
        conn.execute(
            text(
                "UPDATE territory_metrics SET primary_medic_utilization = 10"
                " WHERE metric_date = :first AND mod(abs(hashtext(territory_id::text)), 100) = 0"
            ),
            {"first": first},
        )
        one_statement(conn)

    def in_rollback(fn: Callable[[Connection], Any]) -> float:
        with engine.connect() as conn:
            conn.begin()
            try:
                return _ms(lambda: fn(conn))
            finally:
                conn.rollback()

    timings: dict[str, list[float]] = {}
    # The first time, every counter of the copied weeks moves (they start at 0): committed.
    with engine.begin() as conn:
        timings["first run: every later counter changes"] = [_ms(lambda: one_statement(conn))]
    _vacuum(engine)
    for name, fn in [
        ("bare scan of those rows", bare),
        ("a rerun: nothing changes", one_statement),
        ("a correction: 1 % of territories restart", correction),
        ("the rerun as a loop of one-week statements", loop),
    ]:
        in_rollback(fn)  # warm-up
        timings[name] = [in_rollback(fn) for _ in range(repeat)]
    assert weeks_seen == WEEKS - 1, weeks_seen
    with engine.connect() as conn:
        territories = conn.execute(
            text("SELECT count(*) FROM territory_metrics WHERE metric_date = :a"), {"a": anchor}
        ).scalar_one()
    print(f"   {territories:,} territories x {WEEKS} Sundays = {territories * WEEKS:,} rows")
    floor = statistics.median(timings["bare scan of those rows"])
    for name, values in timings.items():
        value = statistics.median(values)
        print(
            f"   {name}: {value:,.0f} ms (median of {len(values)}; {value / floor:.2f}x the scan)"
        )
    with engine.begin() as conn:  # leave the bench database as it was
        conn.execute(
            text("DELETE FROM territory_metrics WHERE metric_date >= :a AND metric_date < :b"),
            {"a": first, "b": anchor - timedelta(weeks=8)},
        )
    _vacuum(engine)


def _vacuum(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        raw.rollback()  # the pool's connect-time settings leave a transaction open
        raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor = raw.cursor()
        cursor.execute("VACUUM ANALYZE territory_metrics")
        cursor.close()
    finally:
        raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", type=date.fromisoformat, default=date(2026, 11, 29))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("catch-up", "forward", "ledger"))
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    settings = Settings.from_env()
    engine = build_engine(url, settings)
    if args.only in (None, "catch-up"):
        catch_up(engine, settings, args.anchor, args.repeat)
    if args.only in (None, "forward"):
        forward(engine, settings, args.anchor, args.repeat)
    if args.only in (None, "ledger"):
        ledger_reads(engine, args.anchor, args.repeat)


_FILL_LEDGER = """
INSERT INTO job_runs (job, target_date, trigger, status, started_at, finished_at, stats, org_id,
                      request_id, request_kind)
SELECT j.job,
       CASE WHEN j.job = 'weekly-hiring-triggers'
            THEN CAST(:last_sunday AS date) - 7 * mod(g / 3, 1300)
            ELSE CAST(:anchor AS date) - 1 - mod(g / 3, 9000) END,
       'backfill',
       CASE WHEN mod(g, 7) = 0 THEN 'failed' WHEN mod(g, 11) = 0 THEN 'partial'
            ELSE 'succeeded' END,
       now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '2 s',
       '{"bench": true}',
       CASE WHEN mod(g, 5) = 0 THEN (SELECT id FROM organizations ORDER BY id
                                 OFFSET mod(g, 50) LIMIT 1) END,
       gen_random_uuid(), 'backfill'
FROM generate_series(1, :n) g
CROSS JOIN LATERAL (SELECT (ARRAY['daily-territory-metrics', 'daily-trend-aggregation',
                                  'weekly-hiring-triggers'])[mod(g, 3) + 1] AS job) j
"""


def ledger_reads(engine: Engine, anchor: date, repeat: int) -> None:
    from opsmetrics import freshness, history

    samples = max(repeat * 10, 50)
    print(f"3. status and runs over {LEDGER_ROWS:,} job_runs rows (p95 of {samples})")
    last_sunday = anchor - timedelta(days=(anchor.weekday() + 1) % 7)
    with engine.begin() as conn:
        conn.execute(
            text(_FILL_LEDGER), {"n": LEDGER_ROWS, "anchor": anchor, "last_sunday": last_sunday}
        )
        conn.execute(text("ANALYZE job_runs"))
        total = conn.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
        some_org = conn.execute(text("SELECT id FROM organizations ORDER BY id LIMIT 1")).scalar()
    today = anchor + timedelta(days=1)
    try:
        contenders: dict[str, Callable[[], Any]] = {
            "bare count(*) of job_runs": lambda: _scalar(engine, "SELECT count(*) FROM job_runs"),
            "status (every job, sweep included)": lambda: freshness.status(
                engine, today=today, horizon_days=HORIZON
            ),
            "status for one organization": lambda: freshness.status(
                engine, today=today, horizon_days=HORIZON, org_id=some_org
            ),
            "runs, newest 50": lambda: _runs(engine, history.run_filter(limit=50)),
            "runs, one job's failures in a year": lambda: _runs(
                engine,
                history.run_filter(
                    job=WEEKLY, status="failed", start=anchor - timedelta(days=365), end=anchor
                ),
            ),
            "runs seen by one organization": lambda: _runs(
                engine, history.run_filter(org_id=some_org, limit=50)
            ),
        }
        for fn in contenders.values():  # warm-up
            fn()
        found = {name: [_ms(fn) for _ in range(samples)] for name, fn in contenders.items()}
        floor = _p95(found["bare count(*) of job_runs"])
        print(f"   job_runs rows: {total:,}")
        for name, values in found.items():
            p95 = _p95(values)
            print(
                f"   {name}: p95 {p95:.1f} ms, median {statistics.median(values):.1f} ms"
                f" ({p95 / floor:.2f}x the bare count)"
            )
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM job_runs WHERE stats ? 'bench'"))


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _runs(engine: Engine, wanted: Any) -> Any:
    from opsmetrics import history

    with engine.connect() as conn:
        return history.list_runs(conn, wanted)


if __name__ == "__main__":
    main()
