r"""Benchmark daily-territory-metrics on uk-scale data against two baselines, in one run.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench
    flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_territory.py \
        --date 2026-11-22 [--repeat 7] [--breakdown]

Timings (milliseconds; each contender --repeat times after one untimed warm-up round, in a
rotating order so that none always runs right after another; medians decide):
- floor:    one bare query that scans the window's bookings and groups them by organization and
            raw postcode (nothing normalised, joined or written) - no job can be faster than this;
            with the settings of the job's grouping (work_mem, jit off, one parallel worker
            allowed, as the job's own grouping statement);
- floor, serial: the same without the parallel worker (for reference);
- job:      the real job through runs.run (ledger, lock, statements, commit) on a date whose rows
            do not exist yet, as every scheduled run in production;
- job SQL:  the job's own statements (write_day) alone, rolled back: job - job SQL is what the
            ledger, the lock and the commit cost;
- straight: what a pg_cron job would do: join the window's bookings to territories on the
            normalised postcode, then group, then upsert (rolled back; same settings).
Every writer starts from the same table state: the date's rows deleted and territory_metrics
vacuumed (untimed), so that no dead rows of the date remain, as in production. At the end the job
runs once more and, on a Sunday, the weekly job restores the counters; the three reports are
then timed. --breakdown also times the job's statements stage by stage and reads the
foreign-key checks' time from EXPLAIN ANALYZE. Targets: job <= 1.5 x floor; straight >= 3 x job.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.db import build_engine
from opsmetrics.reports.model import ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.territory import daily, daily_sql
from opsmetrics.territory.daily import JOB_WORK_MEM
from opsmetrics.territory.daily_sql import window
from opsmetrics.territory.postcodes import sector_sql
from opsmetrics.territory.rules import CONFIRMED_STATUSES, COUNTED_STATUSES, REJECTED_STATUS
from opsmetrics.territory.rules_sql import rate_sql, utilization_sql

JOB = "daily-territory-metrics"
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


def _session(conn: Connection, *, workers: int) -> None:
    """The settings of the job's grouping statement, for this transaction."""
    settings = {
        "work_mem": JOB_WORK_MEM,
        "jit": "off",
        **daily.PARALLEL_SETTINGS,
        "max_parallel_workers_per_gather": str(workers),
    }
    conn.execute(
        text(
            "SELECT set_config(n, v, true)"
            " FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) AS x(n, v)"
        ),
        {"n": list(settings), "v": list(settings.values())},
    )


def _vacuum(engine: Engine) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.rollback()
        raw.autocommit = True  # VACUUM runs outside a transaction
        try:
            raw.cursor().execute("VACUUM territory_metrics")
        finally:
            raw.autocommit = False


def _run(conn: Connection, sql: str, params: dict[str, Any]) -> Any:
    result = conn.execute(text(sql), params)
    return result.all() if result.returns_rows else None


def _timed_in_rollback(
    engine: Engine, statements: list[str], params: dict[str, Any], *, workers: int
) -> float:
    with engine.connect() as conn:
        conn.begin()
        _session(conn, workers=workers)
        started = time.perf_counter()
        for sql in statements:
            _run(conn, sql, params)
        took = (time.perf_counter() - started) * 1000
        conn.rollback()
    return took


def _stages() -> dict[str, list[str]]:
    """The job's statements stage by stage (each stage includes the ones before it), every column
    consumed so that nothing is pruned."""
    classes = ", ".join(f"sum(n_{name})" for name, _ in daily_sql.STATUS_CLASSES)
    sums_table = daily_sql.sums_table_sql(None)
    return {
        "grouping with status counts": [
            f"SELECT count(*), sum(n_all), {classes}"
            f" FROM ({daily_sql.per_key_sql('', packed=True)}) k"
        ],
        "+ sector of each key": [
            f"SELECT count(*), sum(n_all), {classes}, count(sector)"
            f" FROM ({daily_sql.keys_sql('', packed=True)}) k"
        ],
        "+ sums per (org, sector)": [
            "SELECT count(*), sum(n_all), sum(n_counted), sum(n_confirmed), sum(n_rejected),"
            " sum(n_known), count(bad_key_1), count(*) FILTER (WHERE covered), max(biggest_key)"
            f" FROM ({daily_sql.per_sector_sql('', packed=True)}) s"
        ],
        "+ into the temporary table": [sums_table],
        "+ the write (plain INSERT)": [
            sums_table,
            daily_sql.write_sql(org_id=None, mode="insert", sums_table=True),
        ],
    }


def _fk_check_ms(engine: Engine, params: dict[str, Any]) -> float:
    explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + daily_sql.write_sql(
        org_id=None, mode="insert", sums_table=True
    )
    with engine.connect() as conn:
        conn.begin()
        _session(conn, workers=daily.PARALLEL_WORKERS)
        _run(conn, daily_sql.sums_table_sql(None), params)
        plan = conn.execute(text(explain), params).scalar_one()
        conn.rollback()
    doc = plan if isinstance(plan, list) else json.loads(plan)
    return float(sum(t["Time"] for t in doc[0].get("Triggers", [])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--report-repeat", type=int, default=40)
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the job's statements stage by stage"
    )
    args = parser.parse_args()
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("set DATABASE_URL to the uk-scale database")
    engine = build_engine(settings.database_url, settings)
    day: date = args.date
    first_day, last_day = window(day)
    params = {"first_day": first_day, "last_day": last_day, "day": day}
    workers = daily.PARALLEL_WORKERS

    with engine.connect() as conn:
        groups, in_window = conn.execute(text(FLOOR_SQL), params).one()
        territories = conn.execute(text("SELECT count(*) FROM territories")).scalar_one()
        biggest = conn.execute(
            text("SELECT org_id FROM territories GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
    print(f"date {day}, window {first_day}..{last_day}")
    print(f"territories {territories:,}, bookings in window {in_window:,}, ", end="")
    print(f"distinct (org, postcode) {groups:,}")
    print(f"settings for all: work_mem {JOB_WORK_MEM}, jit off, parallel workers {workers}")

    def fresh_day() -> None:
        """No rows of the date and no dead ones: the state every scheduled run starts from."""
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM territory_metrics WHERE metric_date = :day"), params)
        _vacuum(engine)

    def floor() -> float:
        return _timed_in_rollback(engine, [FLOOR_SQL], params, workers=workers)

    def floor_serial() -> float:
        return _timed_in_rollback(engine, [FLOOR_SQL], params, workers=0)

    def job() -> float:
        fresh_day()
        started = time.perf_counter()
        summary = runs.run(JOB, [day], trigger="manual", engine=engine, settings=settings)
        took = (time.perf_counter() - started) * 1000
        if not summary.ok:
            raise SystemExit(f"job failed: {summary.to_dict()}")
        return took

    def job_sql() -> float:
        fresh_day()
        with engine.connect() as conn:
            conn.begin()
            took = _ms(lambda: daily.write_day(conn, day))
            conn.rollback()
        return took

    def straight() -> float:
        fresh_day()
        return _timed_in_rollback(engine, [STRAIGHT_SQL], params, workers=workers)

    contenders: dict[str, Callable[[], float]] = {
        "floor": floor,
        "floor, serial": floor_serial,
        "job": job,
        "job SQL": job_sql,
        "straight": straight,
    }
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(args.repeat + 1):  # round 0 warms the cache, untimed
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            took = contenders[name]()
            if round_:
                timings[name].append(took)

    med = {k: statistics.median(v) for k, v in timings.items()}
    print()
    print(f"{'contender':<15}{'median ms':>10}{'min ms':>9}{'max ms':>9}")
    for name, values in timings.items():
        print(f"{name:<15}{med[name]:>10.0f}{min(values):>9.0f}{max(values):>9.0f}")
    print()
    print(f"job / floor            = {med['job'] / med['floor']:.2f}  (target <= 1.5)")
    print(f"job / floor, serial    = {med['job'] / med['floor, serial']:.2f}")
    print(f"job SQL / floor        = {med['job SQL'] / med['floor']:.2f}")
    print(f"straight / job         = {med['straight'] / med['job']:.2f}  (target >= 3)")
    print(f"straight / job SQL     = {med['straight'] / med['job SQL']:.2f}")
    print(f"ledger + lock + commit = {med['job'] - med['job SQL']:.0f} ms (job - job SQL)")

    if args.breakdown:
        stages = _stages()
        stage_ms: dict[str, list[float]] = {name: [] for name in ("floor", *stages)}
        for _ in range(args.repeat):
            stage_ms["floor"].append(floor())
            for name, statements in stages.items():
                if "write" in name:
                    fresh_day()
                stage_ms[name].append(
                    _timed_in_rollback(engine, statements, params, workers=workers)
                )
        fresh_day()
        fk_ms = _fk_check_ms(engine, params)
        print()
        print(f"{'stage (cumulative, rolled back)':<34}{'median ms':>10}{'step ms':>9}")
        previous = 0.0
        for name, values in stage_ms.items():
            m = statistics.median(values)
            step = "" if name == "floor" else f"{m - previous:>9.0f}"
            print(f"{name:<34}{m:>10.0f}{step}")
            if name != "floor":
                previous = m
        print(f"{'  of which foreign-key checks':<34}{fk_ms:>10.0f}   (EXPLAIN ANALYZE)")

    # Leave the date as production would: the job's rows, then the weekly counters (Sundays).
    fresh_day()
    runs.run(JOB, [day], trigger="manual", engine=engine, settings=settings)
    print()
    if day.weekday() != 6:
        print("not a Sunday: weekly job and reports skipped")
        engine.dispose()
        return
    started = time.perf_counter()
    weekly = runs.run(
        "weekly-hiring-triggers", [day], trigger="manual", engine=engine, settings=settings
    )
    weekly_ms = (time.perf_counter() - started) * 1000
    counts = weekly.runs[0].result.get("counts", {})
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
