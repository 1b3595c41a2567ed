"""How long `opsmetrics seed` takes, phase by phase, against the bare cost of writing the rows.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_seed.py --scale uk

Works in a scratch database it creates on DATABASE_URL's server and drops afterwards, so it never
touches the loaded benchmark database. Printed in one run:
- the load's wall time and the time of each phase (bookings, classifications, the rest);
- the floor: one INSERT of as many bookings rows, with md5 ids and constant columns, into a copy
  of the bookings table with the same indexes (what writing the rows costs without generating
  anything realistic) - and the ratio of the bookings phase to it;
- with --checksums, an md5 of every table's rows (compare with another load of the same scale,
  seed and anchor, e.g. the benchmark database).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from opsmetrics import migrations, seed
from opsmetrics.db import normalize_url


def _timed_statements(engine: Engine) -> dict[str, float]:
    """Seconds spent per kind of statement, filled in as the engine runs them."""
    spent: dict[str, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        kind = " ".join(words[:3]) if words[:2] == ["INSERT", "INTO"] else "other"
        spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - conn.info["started"]

    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo", choices=list(seed.SCALES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--anchor-date", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument(
        "--checksums", action="store_true", help="also print an md5 of every table's rows"
    )
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base:
        print("set DATABASE_URL to a server where a scratch database may be created")
        return 2
    name = f"opsmetrics_seed_bench_{uuid.uuid4().hex[:8]}"
    url, _ = normalize_url(base)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # Not opsmetrics.db.build_engine: its pg8000 `timeout` also bounds every socket read,
        # and the floor is one statement of minutes.
        engine = create_engine(normalize_url(make_url(base).set(database=name))[0])
        migrations.upgrade(engine)
        spent = _timed_statements(engine)
        started = time.perf_counter()
        counts = seed.load(
            engine, scale=args.scale, seed=args.seed, anchor=args.anchor_date, reset=True
        )
        wall = time.perf_counter() - started
        bookings_s = spent.pop("INSERT INTO bookings", 0.0)
        classifications_s = spent.pop("INSERT INTO topic_classifications", 0.0)
        rest_s = wall - bookings_s - classifications_s
        floor_s = _floor(engine, counts["bookings"])
        sums = _checksums(engine) if args.checksums else {}
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"seed --scale {args.scale} --seed {args.seed} --anchor-date {args.anchor_date}")
    for table, n in counts.items():
        print(f"  {table:<24} {n:>12,} {sums.get(table, '')}")
    print(f"{'phase':<34} {'seconds':>8} {'rows/s':>10}")
    print(f"{'whole load (one transaction)':<34} {wall:>8.1f}")
    rate = counts["bookings"] / bookings_s if bookings_s else 0.0
    print(f"{'bookings (one INSERT per day)':<34} {bookings_s:>8.1f} {rate:>10,.0f}")
    rate = counts["topic_classifications"] / classifications_s if classifications_s else 0.0
    print(f"{'classifications (one per day)':<34} {classifications_s:>8.1f} {rate:>10,.0f}")
    print(f"{'everything else':<34} {rest_s:>8.1f}")
    rate = counts["bookings"] / floor_s if floor_s else 0.0
    print(f"{'floor: bare bookings INSERT':<34} {floor_s:>8.1f} {rate:>10,.0f}")
    print(f"bookings phase / floor = {bookings_s / floor_s:.2f}x")
    return 0


def _checksums(engine: Engine) -> dict[str, str]:
    """md5 of each table's rows in id order: compare two loads of the same scale and seed."""
    with engine.connect() as conn:
        return {
            t: conn.execute(
                text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {t} t")
            ).scalar_one()
            for t in seed.SOURCE_TABLES
        }


def _floor(engine: Engine, rows: int) -> float:
    """One INSERT of `rows` constant bookings with md5 ids into a copy with the same indexes and
    foreign key."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE floor_bookings (LIKE bookings INCLUDING ALL)"))
        conn.execute(
            text("ALTER TABLE floor_bookings ADD FOREIGN KEY (org_id) REFERENCES organizations")
        )
        org = conn.execute(text("SELECT id FROM organizations LIMIT 1")).scalar_one()
        started = time.perf_counter()
        conn.execute(
            text(
                "INSERT INTO floor_bookings"
                " (id, org_id, site_postcode, shift_date, status, medic_id, created_at)"
                " SELECT md5(n::text)::uuid, :org, 'SW1A 1AA', DATE '2026-11-22' - n / 100000,"
                " 'confirmed', NULL, now() FROM generate_series(1, :rows) AS n"
            ),
            {"org": org, "rows": rows},
        )
        elapsed = time.perf_counter() - started
        conn.execute(text("DROP TABLE floor_bookings"))
    return elapsed


if __name__ == "__main__":
    sys.exit(main())
