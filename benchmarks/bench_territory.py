r"""Benchmark daily-territory-metrics on uk-scale data against two baselines, in one run.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench
    flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_territory.py \
        --date 2026-11-22

Timings (milliseconds, each measured --repeat times, interleaved so all share the cache state):
- floor:    one bare query that scans the window's bookings and groups them by organization and
            postcode (nothing normalised, joined or written) - no job can be faster than this;
- job:      the real job through runs.run (ledger, lock, one transaction) on a date whose rows
            do not exist yet, as every day in production (the date's rows are deleted, untimed,
            before each run; the weekly job then restores the counters at the end);
- straight: what a pg_cron job would do: join the window's bookings to territories on the
            normalised postcode, then group, then upsert (same starting point, rolled back).
Targets: job <= 1.5 x floor; straight >= 3 x job. Also times the three reports.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.db import build_engine
from opsmetrics.reports.model import ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.territory.daily import window
from opsmetrics.territory.postcodes import sector_sql
from opsmetrics.territory.rules import CONFIRMED_STATUSES, COUNTED_STATUSES, REJECTED_STATUS
from opsmetrics.territory.rules_sql import rate_sql, utilization_sql

FLOOR_SQL = """
    SELECT count(*) AS groups, sum(n) AS bookings FROM (
        SELECT org_id, site_postcode, count(*) AS n
        FROM bookings WHERE shift_date BETWEEN :first_day AND :last_day
        GROUP BY org_id, site_postcode
    ) g
"""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


STRAIGHT_SQL = f"""
    INSERT INTO territory_metrics AS m (
        territory_id, org_id, postcode_sector, metric_date, total_bookings, confirmed_bookings,
        rejected_bookings, rejection_rate, fulfillment_rate, primary_medic_utilization,
        computed_at)
    SELECT g.id, g.org_id, g.postcode_sector, :day, g.total, g.confirmed, g.rejected,
           {rate_sql("g.rejected", "g.total")}, {rate_sql("g.confirmed", "g.total")},
           {utilization_sql("g.confirmed")}, now()
    FROM (
        SELECT t.id, t.org_id, t.postcode_sector,
               count(b.id) FILTER (WHERE b.status IN {_in(COUNTED_STATUSES)}) AS total,
               count(b.id) FILTER (WHERE b.status IN {_in(CONFIRMED_STATUSES)}) AS confirmed,
               count(b.id) FILTER (WHERE b.status = '{REJECTED_STATUS}') AS rejected
        FROM territories t
        LEFT JOIN bookings b
               ON b.org_id = t.org_id
              AND b.shift_date BETWEEN :first_day AND :last_day
              AND {sector_sql("b.site_postcode")} = t.postcode_sector
        GROUP BY t.id, t.org_id, t.postcode_sector
    ) g
    ON CONFLICT (territory_id, metric_date) DO UPDATE SET
        total_bookings = EXCLUDED.total_bookings,
        confirmed_bookings = EXCLUDED.confirmed_bookings,
        rejected_bookings = EXCLUDED.rejected_bookings,
        rejection_rate = EXCLUDED.rejection_rate,
        fulfillment_rate = EXCLUDED.fulfillment_rate,
        primary_medic_utilization = EXCLUDED.primary_medic_utilization,
        computed_at = EXCLUDED.computed_at
"""


def _ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--report-repeat", type=int, default=40)
    args = parser.parse_args()
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("set DATABASE_URL to the uk-scale database")
    engine = build_engine(settings.database_url, settings)
    day: date = args.date
    first_day, last_day = window(day)
    params = {"first_day": first_day, "last_day": last_day, "day": day}

    with engine.connect() as conn:
        groups, in_window = conn.execute(text(FLOOR_SQL), params).one()  # also warms the cache
        territories = conn.execute(text("SELECT count(*) FROM territories")).scalar_one()
        biggest = conn.execute(
            text("SELECT org_id FROM territories GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
    print(f"date {day}, window {first_day}..{last_day}")
    print(f"territories {territories:,}, bookings in window {in_window:,}, ", end="")
    print(f"distinct (org, postcode) {groups:,}")

    def floor() -> None:
        with engine.connect() as conn:
            conn.execute(text(FLOOR_SQL), params).one()

    def forget_day() -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM territory_metrics WHERE metric_date = :day"), params)

    def job() -> None:
        summary = runs.run(
            "daily-territory-metrics", [day], trigger="manual", engine=engine, settings=settings
        )
        if not summary.ok:
            raise SystemExit(f"job failed: {summary.to_dict()}")

    def straight() -> float:
        with engine.connect() as conn:
            conn.begin()
            conn.execute(text("DELETE FROM territory_metrics WHERE metric_date = :day"), params)
            took = _ms(lambda: conn.execute(text(STRAIGHT_SQL), params))
            conn.rollback()
        return took

    timings: dict[str, list[float]] = {"floor": [], "job": [], "straight": []}
    for _ in range(args.repeat):
        timings["floor"].append(_ms(floor))
        forget_day()
        timings["job"].append(_ms(job))
        timings["straight"].append(straight())

    med = {k: statistics.median(v) for k, v in timings.items()}
    print()
    print(f"{'query':<10}{'median ms':>12}{'min ms':>10}{'max ms':>10}")
    for name, values in timings.items():
        print(f"{name:<10}{med[name]:>12.0f}{min(values):>10.0f}{max(values):>10.0f}")
    print()
    job_vs_floor = med["job"] / med["floor"]
    straight_vs_job = med["straight"] / med["job"]
    print(f"job / floor      = {job_vs_floor:.2f}  (target <= 1.5)")
    print(f"straight / job   = {straight_vs_job:.2f}  (target >= 3)")

    # The reports one organization asks for (its latest date), read repeatedly.
    started = time.perf_counter()
    weekly = runs.run(
        "weekly-hiring-triggers", [day], trigger="manual", engine=engine, settings=settings
    )
    weekly_ms = (time.perf_counter() - started) * 1000
    counts = weekly.runs[0].result.get("counts", {})
    print()
    print(
        f"weekly job (counters of {territories:,} territories, {counts.get('total', 0):,}", end=""
    )
    print(f" triggers evaluated): {weekly_ms:.0f} ms, {weekly.status}")
    cases = {
        "territories (page of 500)": ("territories", ReportParams(org_id=biggest, limit=500)),
        "hiring-triggers": ("hiring-triggers", ReportParams(org_id=biggest)),
        "coverage-gaps": ("coverage-gaps", ReportParams(org_id=biggest)),
    }
    print()
    print(f"{'report (org ' + str(biggest)[:8] + ')':<28}{'p50 ms':>9}{'p95 ms':>9}{'rows':>7}")
    with engine.connect() as conn:
        for label, (name, rp) in cases.items():
            samples: list[float] = []
            rows = 0
            for _ in range(args.report_repeat):
                started = time.perf_counter()
                rows = len(build(conn, name, rp).rows)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"{label:<28}{statistics.median(samples):>9.1f}{_p95(samples):>9.1f}{rows:>7}")
    engine.dispose()


if __name__ == "__main__":
    main()
