r"""The cost curve: each daily job against its floor as the data grows, in one run.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres   # the server, any db
    flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_scale.py [--repeat 3]

Seeds (once; reused while their recipe is unchanged) the databases of scale_data.py: `uk`, 4x
the history (`h4`), 0.5x/1x/2x/4x the bookings in the window (`w05`..`w4`), 4x the organizations
(`o4`). Then, for every point, the job through runs.run (ledger, locks, commit; on dates without
rows, as a scheduled run finds them) against its floor on the same database, in the same run,
alternating, medians of --repeat after an untimed warm-up:

- territory floor: bench_territory.FLOOR_SQL over the bookings the job reads (the window of one
  date; for N dates the span first-6 .. last): one bare scan grouped by organization and raw
  postcode, with the job's settings (work_mem, no JIT, one parallel worker);
- territory write floor (dates per request): a bare INSERT of the rows the dates need (every
  territory, zero figures, nothing computed), rolled back: the part no pass can share;
- trend floor: one bare grouped scan of the classifications the job reads (the day, or the N
  days): count(*) per (organization, topic), nothing normalised, nothing written (server
  defaults: PostgreSQL runs it with parallel workers); and, as `floor_queries_ms`, the floor of
  bench_trends.py over the same rows: its five bare GROUP BY queries (org/topic, org/tone,
  org/channel, org totals, org/severity), the work the job cannot avoid.

Dimensions: bookings (classifications) in the window at 0.5, 1, 2, 4x uk; history 1x and 4x;
organizations 1x and 4x; dates per request 1, 7, 30, 90 (on h4, where every date has data: one
request, run in passes (opsmetrics.batch; the trend job's available but unused pass included),
against its floor over the span, against the same dates run one request per date, measured
--separate-repeat times). Writes docs/scale_curve.csv and draws
docs/scale_curve.png (needs matplotlib: `pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_territory import FLOOR_SQL, _timed_in_rollback
from bench_trends import FLOOR_QUERIES
from scale_data import ANCHOR, SPECS, _vacuum_analyze, ensure
from sqlalchemy import Engine, event, text

from opsmetrics import batch, runs
from opsmetrics.config import Settings
from opsmetrics.territory import daily, daily_sql
from opsmetrics.trends.daily import day_bounds

DOCS = Path(__file__).resolve().parents[1] / "docs"
TERRITORY = "daily-territory-metrics"
TRENDS = "daily-trend-aggregation"
TREND_FLOOR_SQL = """
    SELECT count(*) AS groups FROM (
        SELECT organization_id, topic, count(*) FROM topic_classifications
        WHERE created_at >= :span_start AND created_at < :span_end GROUP BY 1, 2
    ) g
"""
OUTPUT = {
    TERRITORY: ("territory_metrics", "metric_date"),
    TRENDS: ("communication_trends", "trend_date"),
}


@dataclass
class Point:
    dimension: str  # window | history | organizations | dates
    label: str  # e.g. "2x"
    database: str
    job: str
    dates: int
    rows_read: int = 0  # bookings (territory) or classifications (trend) the job reads
    job_ms: float = 0.0
    floor_ms: float = 0.0
    separate_ms: float | None = None  # the same dates, one request per date
    floor_queries_ms: float | None = None  # trend job: bench_trends' five GROUP BY queries
    write_floor_ms: float | None = None  # territory job: a bare INSERT of the dates' rows
    statements: list[tuple[float, str]] = field(default_factory=list)  # --breakdown
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def job_per_floor(self) -> float:
        return self.job_ms / self.floor_ms


def dates_ending(anchor: date, n: int) -> list[date]:
    return [anchor - timedelta(days=k) for k in range(n - 1, -1, -1)]


def territory_params(dates: list[date]) -> dict[str, Any]:
    return {
        "first_day": dates[0] - timedelta(days=daily_sql.WINDOW_DAYS - 1),
        "last_day": dates[-1],
    }


def trend_params(dates: list[date]) -> dict[str, Any]:
    return {"span_start": day_bounds(dates[0])[0], "span_end": day_bounds(dates[-1])[1]}


def rows_read(engine: Engine, job: str, dates: list[date]) -> int:
    if job == TERRITORY:
        sql = "SELECT count(*) FROM bookings WHERE shift_date BETWEEN :first_day AND :last_day"
        params = territory_params(dates)
    else:
        sql = (
            "SELECT count(*) FROM topic_classifications"
            " WHERE created_at >= :span_start AND created_at < :span_end"
        )
        params = trend_params(dates)
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def clear(engine: Engine, job: str, dates: list[date]) -> None:
    """No output rows of the dates and no dead ones, no ledger: what a first run finds."""
    table, column = OUTPUT[job]
    with engine.begin() as conn:
        conn.execute(
            text(f"DELETE FROM {table} WHERE {column} BETWEEN :first AND :last"),
            {"first": dates[0], "last": dates[-1]},
        )
        conn.execute(text("DELETE FROM job_runs WHERE job = :job"), {"job": job})
    _vacuum_analyze(engine, table)  # VACUUM <table>


def time_job(engine: Engine, settings: Settings, job: str, dates: list[date]) -> float:
    """The job through runs.run, one request for all `dates`; a job whose pass is available but
    not used (batch.AVAILABLE: the trend job) is timed with its pass, to show why."""
    clear(engine, job, dates)
    started = time.perf_counter()
    shipped = dict(batch.BATCHED)
    batch.BATCHED.update(batch.AVAILABLE)
    try:
        summary = runs.run(job, dates, trigger="backfill", engine=engine, settings=settings)
    finally:
        batch.BATCHED.clear()
        batch.BATCHED.update(shipped)
    took = (time.perf_counter() - started) * 1000
    if not summary.ok:
        raise SystemExit(f"{job} failed: {summary.to_dict()['runs'][:2]}")
    return took


def time_separately(engine: Engine, settings: Settings, job: str, dates: list[date]) -> float:
    clear(engine, job, dates)
    started = time.perf_counter()
    for d in dates:
        if not runs.run(job, [d], trigger="backfill", engine=engine, settings=settings).ok:
            raise SystemExit(f"{job} failed on {d}")
    return (time.perf_counter() - started) * 1000


WRITE_FLOOR_SQL = """
    INSERT INTO territory_metrics (territory_id, org_id, postcode_sector, metric_date,
        total_bookings, confirmed_bookings, rejected_bookings, rejection_rate, fulfillment_rate,
        primary_medic_utilization, computed_at)
    SELECT t.id, t.org_id, t.postcode_sector, d.day, 0, 0, 0, NULL, NULL, 0, now()
    FROM unnest(CAST(:dates AS date[])) AS d(day) CROSS JOIN territories t
    ORDER BY d.day, t.id
"""


def time_write_floor(engine: Engine, dates: list[date]) -> float:
    """A bare INSERT of the rows the territory job writes for `dates` (every territory, zero
    figures, nothing computed) into the empty dates, rolled back: the write no pass avoids."""
    clear(engine, TERRITORY, dates)
    return _timed_in_rollback(
        engine, [WRITE_FLOOR_SQL], {"dates": [d.isoformat() for d in dates]}, workers=0
    )


def time_floor_queries(engine: Engine, dates: list[date]) -> float:
    bounds = trend_params(dates)
    params = {"day_start": bounds["span_start"], "day_end": bounds["span_end"]}
    with engine.connect() as conn:
        started = time.perf_counter()
        for sql in FLOOR_QUERIES.values():
            conn.execute(text(f"SELECT count(*) FROM ({sql}) g"), params).scalar_one()
        took = (time.perf_counter() - started) * 1000
        conn.rollback()
    return took


def statement_times(
    engine: Engine, settings: Settings, job: str, dates: list[date]
) -> list[tuple[float, str]]:
    """One more pass, each statement timed (sqlalchemy events): the 6 slowest, in ms."""
    took: dict[str, float] = {}

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split())[:60]
        took[key] = took.get(key, 0.0) + (time.perf_counter() - conn.info["bench_t0"]) * 1000

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        time_job(engine, settings, job, dates)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return sorted(((ms, sql) for sql, ms in took.items()), reverse=True)[:6]


def time_floor(engine: Engine, job: str, dates: list[date]) -> float:
    if job == TERRITORY:
        return _timed_in_rollback(
            engine, [FLOOR_SQL], territory_params(dates), workers=daily.PARALLEL_WORKERS
        )
    with engine.connect() as conn:
        started = time.perf_counter()
        conn.execute(text(TREND_FLOOR_SQL), trend_params(dates)).scalar_one()
        took = (time.perf_counter() - started) * 1000
        conn.rollback()
    return took


def measure(
    point: Point,
    engine: Engine,
    settings: Settings,
    repeat: int,
    separate_repeat: int,
    breakdown: bool = False,
) -> Point:
    dates = dates_ending(ANCHOR, point.dates)
    point.rows_read = rows_read(engine, point.job, dates)
    contenders: dict[str, Callable[[], float]] = {
        "floor": lambda: time_floor(engine, point.job, dates),
        "job": lambda: time_job(engine, settings, point.job, dates),
    }
    if point.job == TRENDS:
        contenders["floor_queries"] = lambda: time_floor_queries(engine, dates)
    elif point.dimension == "dates":
        contenders["write_floor"] = lambda: time_write_floor(engine, dates)
    point.samples = {name: [] for name in contenders}
    for round_ in range(repeat + 1):  # round 0 warms the cache, untimed
        order = list(contenders) if round_ % 2 else list(reversed(contenders))
        for name in order:
            took = contenders[name]()
            if round_:
                point.samples[name].append(took)
    if point.dates > 1 and separate_repeat:
        point.samples["separate"] = [
            time_separately(engine, settings, point.job, dates) for _ in range(separate_repeat)
        ]
        point.separate_ms = statistics.median(point.samples["separate"])
    if breakdown and point.dimension == "dates":
        point.statements = statement_times(engine, settings, point.job, dates)
    if "write_floor" in point.samples:
        point.write_floor_ms = statistics.median(point.samples["write_floor"])
    if "floor_queries" in point.samples:
        point.floor_queries_ms = statistics.median(point.samples["floor_queries"])
    point.job_ms = statistics.median(point.samples["job"])
    point.floor_ms = statistics.median(point.samples["floor"])
    return point


PLAN: list[tuple[str, str, str, str, int]] = [
    # dimension, label, database spec, job, dates
    *(
        (dim, label, spec, job, 1)
        for job in (TERRITORY, TRENDS)
        for dim, label, spec in (
            ("window", "0.5x", "w05"),
            ("window", "1x", "w1"),
            ("window", "2x", "w2"),
            ("window", "4x", "w4"),
            ("history", "1x", "uk"),
            ("history", "4x", "h4"),
        )
    ),
    ("organizations", "1x", "uk", TRENDS, 1),
    ("organizations", "4x", "o4", TRENDS, 1),
    *(("dates", str(n), "h4", job, n) for job in (TERRITORY, TRENDS) for n in (1, 7, 30, 90)),
]


CSV_COLUMNS = [
    "dimension", "point", "database", "job", "dates", "rows_read", "job_ms", "floor_ms",
    "job_per_floor", "separate_ms", "job_per_one_date", "floor_queries_ms",
    "job_per_floor_queries", "write_floor_ms",
]  # fmt: skip


def _ms(value: float | None) -> str:
    return "" if value is None else str(round(value))


def write_csv(points: list[Point], path: Path) -> None:
    one_date = {
        (p.database, p.job): p.job_ms for p in points if p.dimension == "dates" and p.dates == 1
    }
    with path.open("w", newline="") as out:
        w = csv.writer(out)
        w.writerow(CSV_COLUMNS)
        for p in points:
            base = one_date.get((p.database, p.job)) if p.dimension == "dates" else None
            w.writerow(
                [
                    p.dimension, p.label, p.database, p.job, p.dates, p.rows_read,
                    _ms(p.job_ms), _ms(p.floor_ms), f"{p.job_per_floor:.2f}",
                    _ms(p.separate_ms), "" if base is None else f"{p.job_ms / base:.2f}",
                    _ms(p.floor_queries_ms),
                    "" if p.floor_queries_ms is None else f"{p.job_ms / p.floor_queries_ms:.2f}",
                    _ms(p.write_floor_ms),
                ]
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--separate-repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="dimensions to measure (default all)")
    parser.add_argument(
        "--breakdown", action="store_true", help="time each statement of the multi-date passes"
    )
    parser.add_argument("--csv", type=Path, default=DOCS / "scale_curve.csv")
    parser.add_argument("--png", type=Path, default=DOCS / "scale_curve.png")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("set DATABASE_URL to the PostgreSQL server for the benchmark databases")
    settings = Settings.from_env()
    engines: dict[str, Engine] = {}
    points: list[Point] = []
    for dim, label, spec, job, n in PLAN:
        if args.only and dim not in args.only:
            continue
        if spec not in engines:
            engines[spec] = ensure(base, SPECS[spec], settings)
        point = measure(
            Point(dim, label, spec, job, n),
            engines[spec],
            settings,
            args.repeat,
            args.separate_repeat,
            args.breakdown,
        )
        points.append(point)
        extra = "" if point.separate_ms is None else f", separate {point.separate_ms:8.0f} ms"
        if point.write_floor_ms is not None:
            extra += f", write floor {point.write_floor_ms:6.0f} ms"
        if point.floor_queries_ms is not None:
            extra += f", floor queries {point.floor_queries_ms:6.0f} ms"
        print(
            f"{dim:<14}{label:>5} {spec:<4} {job:<24} {point.rows_read:>11,} rows"
            f"  job {point.job_ms:8.0f} ms  floor {point.floor_ms:7.0f} ms"
            f"  x{point.job_per_floor:5.2f}{extra}",
            flush=True,
        )
        for ms, sql in point.statements:
            print(f"{'':>20}{ms:8.0f} ms  {sql}", flush=True)
    for engine in engines.values():
        engine.dispose()
    write_csv(points, args.csv)
    print(f"wrote {args.csv}")
    try:
        from bench_scale_chart import draw
    except ImportError as exc:  # matplotlib is an optional benchmark dependency
        print(f"no chart ({exc}); pip install -e '.[bench]'")
        return
    draw([asdict(p) for p in points], args.png)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
