r"""Evidence for docs/scaling.md: the jobs' own SQL on monthly partitions prunes to the months
it reads.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python benchmarks/partition_evidence.py

In the cost curve's `uk` database (scale_data.py), copies `bookings` and
`topic_classifications` into monthly declarative partitions (a year back and a month ahead) in
a scratch schema (`partitioned`: the same indexes per partition, the partition key added to the
primary key as PostgreSQL requires; rebuilt when that database is seeded again). Then,
with `search_path` pointing at the partitioned copies, it EXPLAINs (ANALYZE) the statements the
jobs run, unchanged: the territory job's sums for one date, the batch's day sums for 30 dates,
the trend job's aggregation for one day. Each is also timed on the plain tables and on the
partitions, in the same run. Writes docs/partition_explain.txt.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from scale_data import ANCHOR, SPECS, ensure
from sqlalchemy import Connection, text

from opsmetrics.config import Settings
from opsmetrics.territory import batch_sql, daily, daily_sql
from opsmetrics.trends import sql as trend_sql
from opsmetrics.trends.daily import BATCH_SIZE

OUT = Path(__file__).resolve().parents[1] / "docs" / "partition_explain.txt"
SPEC = SPECS["uk"]
# A year of monthly partitions before the anchor's month and one after, as production would
# hold them, whether or not the seed put rows in them.
MONTHS_BACK = 12
SCHEMA = "partitioned"


def _months(first: date, last: date) -> list[date]:
    month = first.replace(day=1)
    out = []
    while month <= last:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def build(conn: Connection) -> None:
    """The partitioned copies (once: kept while they were made from the data seeded now)."""
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.built"}).scalar():
        made = conn.execute(text(f"SELECT fingerprint FROM {SCHEMA}.built")).scalar()
        if made == SPEC.fingerprint:
            return
    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    lo = (ANCHOR.replace(day=1) - timedelta(days=MONTHS_BACK * 31)).replace(day=1)
    hi = (ANCHOR.replace(day=1) + timedelta(days=32)).replace(day=1)
    conn.execute(
        text(
            f"CREATE TABLE {SCHEMA}.bookings (LIKE public.bookings INCLUDING DEFAULTS,"
            " PRIMARY KEY (id, shift_date)) PARTITION BY RANGE (shift_date)"
        )
    )
    for m in _months(lo, hi):
        nxt = (m + timedelta(days=32)).replace(day=1)
        conn.execute(
            text(
                f"CREATE TABLE {SCHEMA}.bookings_{m:%Y_%m} PARTITION OF {SCHEMA}.bookings"
                f" FOR VALUES FROM ('{m}') TO ('{nxt}')"
            )
        )
    conn.execute(text(f"CREATE INDEX ON {SCHEMA}.bookings (org_id, shift_date)"))
    conn.execute(text(f"CREATE INDEX ON {SCHEMA}.bookings (shift_date)"))
    conn.execute(text(f"INSERT INTO {SCHEMA}.bookings SELECT * FROM public.bookings"))
    conn.execute(
        text(
            f"CREATE TABLE {SCHEMA}.topic_classifications (LIKE public.topic_classifications"
            " INCLUDING DEFAULTS, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)"
        )
    )
    for m in _months(lo, hi):
        nxt = (m + timedelta(days=32)).replace(day=1)
        conn.execute(
            text(
                f"CREATE TABLE {SCHEMA}.topic_classifications_{m:%Y_%m}"
                f" PARTITION OF {SCHEMA}.topic_classifications"
                f" FOR VALUES FROM ('{m} 00:00+00') TO ('{nxt} 00:00+00')"
            )
        )
    conn.execute(text(f"CREATE INDEX ON {SCHEMA}.topic_classifications (created_at)"))
    conn.execute(
        text(
            f"INSERT INTO {SCHEMA}.topic_classifications SELECT * FROM public.topic_classifications"
        )
    )
    conn.execute(text(f"ANALYZE {SCHEMA}.bookings, {SCHEMA}.topic_classifications"))
    conn.execute(
        text(f"CREATE TABLE {SCHEMA}.built AS SELECT CAST(:f AS text) AS fingerprint"),
        {"f": SPEC.fingerprint},
    )


def _statements() -> dict[str, tuple[str, dict[str, Any]]]:
    day = ANCHOR
    first, last = daily_sql.window(day)
    dates = [day - timedelta(days=k) for k in range(29, -1, -1)]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {
        "territory job, sums of one date (daily_sql.per_sector_sql)": (
            f"SELECT count(*) FROM ({daily_sql.per_sector_sql('', packed=True)}) s",
            {"first_day": first, "last_day": last},
        ),
        "territory batch, day sums of 30 dates (batch_sql.days_table_sql)": (
            batch_sql.days_table_sql("", packed=True).replace(
                f"CREATE TEMPORARY TABLE {batch_sql.DAYS_TABLE} ON COMMIT DROP AS", ""
            ),
            {"first_day": dates[0] - timedelta(days=6), "last_day": dates[-1]},
        ),
        "trend job, one day (trends.sql.aggregate_sql)": (
            trend_sql.aggregate_sql(False, False).replace(
                f"CREATE TEMP TABLE {trend_sql.DAY_TABLE} ON COMMIT DROP AS", ""
            ),
            {
                **trend_sql.aggregate_params(BATCH_SIZE),
                "span_start": start,
                "span_end": start + timedelta(days=1),
                "dates": [day.isoformat()],
                "first_date": day,
            },
        ),
    }


def _settings(conn: Connection, search_path: str, title: str) -> None:
    """The job's own settings for the statement `title` names."""
    conn.execute(text(f"SET LOCAL search_path = {search_path}"))
    if title.startswith("trend"):  # as trends.daily runs its aggregation
        conn.execute(text("SET LOCAL enable_indexscan = off"))
    conn.execute(text(f"SET LOCAL work_mem = '{daily.JOB_WORK_MEM}'"))
    conn.execute(text("SET LOCAL jit = off"))


def _buffers(engine: Any, title: str, sql: str, params: dict[str, Any]) -> tuple[int, float]:
    """(shared buffers hit + read, ms) of one EXPLAIN (ANALYZE, BUFFERS) run, plain tables."""
    with engine.connect() as conn:
        conn.begin()
        _settings(conn, "public", title)
        doc = conn.execute(
            text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql), params
        ).scalar_one()
        conn.rollback()
    plan = (doc if isinstance(doc, list) else json.loads(doc))[0]
    top = plan["Plan"]
    return int(top["Shared Hit Blocks"] + top["Shared Read Blocks"]), float(plan["Execution Time"])


def history_lines(base: str) -> list[str]:
    """The same statements on `uk` and on 4x its history (`h4`): the pages they touch."""
    settings = Settings.from_env()
    engines = {name: ensure(base, SPECS[name], settings) for name in ("uk", "h4")}
    lines = [
        "== history: the same statements on uk (8 weeks) and h4 (32 weeks), plain tables",
        "   (shared buffers touched, hit + read; execution ms of that one run)",
    ]
    for title, (sql, params) in _statements().items():
        if "30 dates" in title:
            continue
        found = {name: _buffers(e, title, sql, params) for name, e in engines.items()}
        lines.append(
            f"   {title}: uk {found['uk'][0]:,} buffers ({found['uk'][1]:.0f} ms),"
            f" h4 {found['h4'][0]:,} buffers ({found['h4'][1]:.0f} ms)"
        )
    for engine in engines.values():
        engine.dispose()
    return [*lines, ""]


def main() -> None:
    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("set DATABASE_URL to the PostgreSQL server")
    engine = ensure(base, SPEC, Settings.from_env())
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        build(conn)
    lines: list[str] = [
        f"Generated by benchmarks/partition_evidence.py on {SPEC.database}"
        f" (uk: 8 weeks of bookings and 14 days ahead, 7 days of Slack; anchor {ANCHOR}).",
        "search_path = partitioned, public: the jobs' statements, unchanged, read the monthly"
        " partitions.",
        "",
    ]
    with engine.connect() as conn:
        parts = conn.execute(
            text(
                "SELECT c.relname, c.reltuples::bigint FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
                " JOIN pg_namespace n ON n.oid = p.relnamespace"
                " WHERE n.nspname = :s AND p.relkind = 'p' ORDER BY 1"
            ),
            {"s": SCHEMA},
        ).all()
    lines += ["partitions (estimated rows):"] + [f"  {r[0]:<40}{r[1]:>12,}" for r in parts] + [""]
    for title, (sql, params) in _statements().items():
        timings: dict[str, list[float]] = {"plain": [], "partitioned": []}
        plan: list[str] = []
        for _ in range(4):  # the first of each is a warm-up
            for label, path in (("plain", "public"), ("partitioned", f"{SCHEMA}, public")):
                with engine.connect() as conn:
                    conn.begin()
                    _settings(conn, path, title)
                    started = time.perf_counter()
                    conn.execute(text(sql), params).all()
                    timings[label].append((time.perf_counter() - started) * 1000)
                    if label == "partitioned" and not plan:
                        plan = [
                            r[0]
                            for r in conn.execute(
                                text("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + sql), params
                            )
                        ]
                    conn.rollback()
        med = {k: statistics.median(v[1:]) for k, v in timings.items()}
        lines += [
            f"== {title}",
            f"   median of 3: plain tables {med['plain']:.0f} ms,"
            f" monthly partitions {med['partitioned']:.0f} ms",
            "   scan nodes of the plan on the partitions:",
        ]
        lines += [f"   {p}" for p in plan if "Scan" in p or "Subplans Removed" in p]
        lines.append("")
    lines += history_lines(base)
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))
    engine.dispose()


if __name__ == "__main__":
    main()
