"""Benchmark of daily-trend-aggregation against its floor and a per-organization loop.

Run on the uk data (1,000 organizations, >= 300,000 classifications on the anchor day), under the
shared benchmark lock:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench \\
        flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_trends.py

Measured in one run, on the same warm database:
- job:   opsmetrics.runs.run("daily-trend-aggregation", [D]) - the real job, ledger and lock
         included; it writes the day's real communication_trends rows;
- floor: the bare GROUP BY queries over the day's rows (org/topic, org/tone, org/channel,
         org totals, org/severity), each wrapped in count(*) so no result travels to the client;
- loop:  what a scheduler-and-worker service does: for each organization five queries and an
         upsert, one transaction per organization (a worker task), into a scratch copy of
         communication_trends that the benchmark creates and drops. Measured with the
         (organization_id, created_at) indexes such a loop needs (created before and dropped
         after the timing; also shown with all organizations in one transaction, the fastest
         version of it), and on the schema as shipped (created_at indexes only), where every
         query scans the whole day: timed on a sample of organizations and extrapolated.
Targets: job within 2x the floor, loop at least 10x the job.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.db import get_engine
from opsmetrics.trends import hotspots
from opsmetrics.trends.daily import day_bounds
from opsmetrics.trends.values import tone_text_sql, usable_tone_sql

DAY = "created_at >= :day_start AND created_at < :day_end"
TONE = tone_text_sql("sentiment")  # the job's per-row tone; blank ones are dropped per group
FLAGGED = "topic IN ('complaint', 'escalation')"

FLOOR_QUERIES = {
    "org/topic": f"SELECT organization_id, topic, count(*) FROM topic_classifications"
    f" WHERE {DAY} GROUP BY 1, 2",
    "org/tone": f"SELECT organization_id, {TONE}, count(*) FROM topic_classifications"
    f" WHERE {DAY} GROUP BY 1, 2",
    "org/channel": f"SELECT organization_id, channel_id, count(*),"
    f" count(*) FILTER (WHERE {FLAGGED}) FROM topic_classifications WHERE {DAY} GROUP BY 1, 2",
    "org totals": f"SELECT organization_id, count(*), avg(confidence) FROM topic_classifications"
    f" WHERE {DAY} GROUP BY 1",
    "org/severity": f"SELECT organization_id, severity, count(*) FROM escalation_alerts"
    f" WHERE {DAY} GROUP BY 1, 2",
}

ORG = "organization_id = :org AND created_at >= :day_start AND created_at < :day_end"
LOOP_QUERIES = {
    "topics": f"SELECT topic, count(*) FROM topic_classifications WHERE {ORG} GROUP BY topic",
    "tones": f"SELECT tone, n FROM (SELECT {TONE} AS tone, count(*) AS n"
    f" FROM topic_classifications WHERE {ORG} GROUP BY 1) t WHERE {usable_tone_sql('tone')}",
    "channels": f"SELECT channel_id, count(*) FILTER (WHERE {FLAGGED}), count(*)"
    f" FROM topic_classifications WHERE {ORG} AND channel_id <> '' GROUP BY channel_id",
    "totals": f"SELECT count(*), avg(confidence) FROM topic_classifications WHERE {ORG}",
    "alerts": f"SELECT severity, count(*) FROM escalation_alerts WHERE {ORG} GROUP BY severity",
}
SCRATCH = "bench_loop_trends"  # created and dropped by the benchmark; never the real output
LOOP_INDEX_NAMES = ("bench_tc_org_day", "bench_ea_org_day")
LOOP_INDEXES = [
    f"CREATE INDEX {LOOP_INDEX_NAMES[0]} ON topic_classifications (organization_id, created_at)",
    f"CREATE INDEX {LOOP_INDEX_NAMES[1]} ON escalation_alerts (organization_id, created_at)",
]
LOOP_UPSERT = f"""
INSERT INTO {SCRATCH} (organization_id, trend_date, trend_period, topic_distribution,
    sentiment_distribution, escalation_counts, channel_hotspots, total_classifications,
    avg_confidence, created_at, updated_at)
VALUES (:org, :day, 'daily', CAST(:topics AS jsonb), CAST(:tones AS jsonb), CAST(:alerts AS jsonb),
    CAST(:hot AS jsonb), :total, :avg, now(), now())
ON CONFLICT (organization_id, trend_date, trend_period) DO UPDATE SET
    topic_distribution = EXCLUDED.topic_distribution,
    sentiment_distribution = EXCLUDED.sentiment_distribution,
    escalation_counts = EXCLUDED.escalation_counts, channel_hotspots = EXCLUDED.channel_hotspots,
    total_classifications = EXCLUDED.total_classifications,
    avg_confidence = EXCLUDED.avg_confidence, updated_at = EXCLUDED.updated_at
"""


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def floor(engine: Engine, bounds: dict[str, Any]) -> float:
    with engine.connect() as conn:
        started = time.perf_counter()
        for sql in FLOOR_QUERIES.values():
            conn.execute(text(f"SELECT count(*) FROM ({sql}) g"), bounds).scalar_one()
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed


def job(engine: Engine, day: date, settings: Settings) -> tuple[float, dict[str, Any]]:
    elapsed, summary = timed(
        lambda: runs.run(
            "daily-trend-aggregation", [day], trigger="manual", engine=engine, settings=settings
        )
    )
    [result] = summary.runs
    if result.status != "succeeded":
        raise SystemExit(f"the job did not succeed: {result.status} {result.error}")
    return elapsed, result.stats


def _one_org(conn: Connection, org: Any, day: date, bounds: dict[str, Any]) -> None:
    p = {**bounds, "org": org}
    topics = {t: n for t, n in conn.execute(text(LOOP_QUERIES["topics"]), p)}
    tones = {t: n for t, n in conn.execute(text(LOOP_QUERIES["tones"]), p)}
    channels = [
        hotspots.ChannelCounts(c, f, n)
        for c, f, n in conn.execute(text(LOOP_QUERIES["channels"]), p)
    ]
    total, avg = conn.execute(text(LOOP_QUERIES["totals"]), p).one()
    alerts = {s: n for s, n in conn.execute(text(LOOP_QUERIES["alerts"]), p)}
    conn.execute(
        text(LOOP_UPSERT),
        {
            "org": org,
            "day": day,
            "topics": json.dumps(topics),
            "tones": json.dumps(tones),
            "alerts": json.dumps(alerts),
            "hot": json.dumps(hotspots.hotspots(channels)),
            "total": total,
            "avg": avg,
        },
    )


def _scratch(engine: Engine, *, indexed: bool) -> None:
    """The loop's scratch output table, and (when asked) the indexes a per-org loop needs."""
    _cleanup(engine)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {SCRATCH} (LIKE communication_trends INCLUDING ALL)"))
        if indexed:
            for ddl in LOOP_INDEXES:
                conn.execute(text(ddl))
        conn.execute(text("ANALYZE topic_classifications, escalation_alerts"))


AGREEMENT = f"""
SELECT count(*) AS compared,
       count(*) FILTER (WHERE t.organization_id IS NOT NULL
           AND l.topic_distribution = t.topic_distribution
           AND l.sentiment_distribution = t.sentiment_distribution
           AND l.escalation_counts = t.escalation_counts
           AND l.channel_hotspots = t.channel_hotspots
           AND l.total_classifications = t.total_classifications
           AND ((l.avg_confidence IS NULL AND t.avg_confidence IS NULL)
                OR abs(l.avg_confidence - t.avg_confidence) < 1e-9)) AS agreeing
FROM {SCRATCH} l
LEFT JOIN communication_trends t ON t.organization_id = l.organization_id
     AND t.trend_date = l.trend_date AND t.trend_period = l.trend_period
"""


def agreement(engine: Engine) -> tuple[int, int]:
    """(organizations compared, organizations where the loop and the job wrote the same)."""
    with engine.connect() as conn:
        row = conn.execute(text(AGREEMENT)).one()
    return int(row.compared), int(row.agreeing)


def _cleanup(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        for name in LOOP_INDEX_NAMES:
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))


def loop(
    engine: Engine, day: date, bounds: dict[str, Any], limit: int | None, *, commit_each: bool
) -> tuple[float, int]:
    """Seconds for the per-organization loop over all (or the first `limit`) organizations:
    each organization its own transaction (a worker task) or all in one."""
    with engine.connect() as conn:
        started = time.perf_counter()
        orgs = [r[0] for r in conn.execute(text("SELECT id FROM organizations ORDER BY id"))]
        conn.commit()
        orgs = orgs[:limit] if limit else orgs
        if commit_each:
            for org in orgs:
                with conn.begin():
                    _one_org(conn, org, day, bounds)
        else:
            with conn.begin():
                for org in orgs:
                    _one_org(conn, org, day, bounds)
        elapsed = time.perf_counter() - started
    return elapsed, len(orgs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--repeat", type=int, default=3, help="runs of the job and the floor")
    parser.add_argument("--loop-orgs", type=int, default=None, help="limit the loop (default all)")
    parser.add_argument(
        "--shipped-sample", type=int, default=20, help="orgs timed for the no-index loop (0: skip)"
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        print("set DATABASE_URL to the benchmark database", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = get_engine(settings)
    start, end = day_bounds(args.date)
    bounds = {"day_start": start, "day_end": end}
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
        orgs = conn.execute(text("SELECT count(*) FROM organizations")).scalar_one()
        in_day = conn.execute(
            text(f"SELECT count(*) FROM topic_classifications WHERE {DAY}"), bounds
        ).scalar_one()
        alerts = conn.execute(
            text(f"SELECT count(*) FROM escalation_alerts WHERE {DAY}"), bounds
        ).scalar_one()
        all_rows = conn.execute(text("SELECT count(*) FROM topic_classifications")).scalar_one()
    print(f"PostgreSQL {version}; day {args.date}: {orgs:,} organizations,")
    print(f"  {in_day:,} classifications that day ({all_rows:,} in the table), {alerts:,} alerts")

    floor(engine, bounds)  # warm the cache once, untimed
    floors: list[float] = []
    jobs: list[float] = []
    stats: dict[str, Any] = {}
    for _ in range(args.repeat):  # interleaved so both see the same cache state
        floors.append(floor(engine, bounds))
        seconds, stats = job(engine, args.date, settings)
        jobs.append(seconds)
    try:
        _scratch(engine, indexed=True)
        loop_s, loop_orgs = loop(engine, args.date, bounds, args.loop_orgs, commit_each=True)
        compared, agreeing = agreement(engine)
        one_tx_s, _ = loop(engine, args.date, bounds, args.loop_orgs, commit_each=False)
        plain_s, plain_orgs = 0.0, 0
        if args.shipped_sample:
            _scratch(engine, indexed=False)
            plain_s, plain_orgs = loop(
                engine, args.date, bounds, args.shipped_sample, commit_each=True
            )
    finally:
        _cleanup(engine)
    scale = orgs / loop_orgs if loop_orgs else float("nan")
    loop_full, one_tx_full = loop_s * scale, one_tx_s * scale
    plain_full = plain_s * orgs / plain_orgs if plain_orgs else float("nan")

    f, j = statistics.median(floors), statistics.median(jobs)
    print()
    print(f"{'measure':<44}{'seconds':>10}")
    print(f"{'floor: 5 bare GROUP BY queries (median)':<44}{f:>10.3f}")
    print(f"{'job: daily-trend-aggregation (median)':<44}{j:>10.3f}")
    print(
        f"{'  of which aggregation / writes (last run)':<44}"
        f"{stats.get('aggregate_ms', 0) / 1000:>10.3f} / {stats.get('write_ms', 0) / 1000:.3f}"
    )
    rows = [
        (f"loop, indexed, a transaction per org ({loop_orgs:,})", loop_s, loop_full),
        (f"loop, indexed, one transaction ({loop_orgs:,})", one_tx_s, one_tx_full),
    ]
    if plain_orgs:
        rows.append((f"loop, schema as shipped ({plain_orgs:,} orgs)", plain_s, plain_full))
    for label, measured, full in rows:
        print(f"{label:<44}{measured:>10.3f}")
        if full != measured:
            print(f"{'  extrapolated to all organizations':<44}{full:>10.3f}")
    print()
    print(f"job / floor = {j / f:.2f}  (target <= 2)")
    print(
        f"loop / job  = {loop_full / j:.1f} (a transaction per org), {one_tx_full / j:.1f}"
        f" (one transaction), {plain_full / j:.0f} (schema as shipped)  (target >= 10)"
    )
    print(f"check: the loop and the job agree on {agreeing:,} of {compared:,} organizations")
    print(f"runs: floor {[round(x, 3) for x in floors]}, job {[round(x, 3) for x in jobs]}")
    print(
        f"job stats: trends_created {stats.get('trends_created')}, "
        f"malformed_sentiment {stats.get('malformed_sentiment')}, hotspots {stats.get('hotspots')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
