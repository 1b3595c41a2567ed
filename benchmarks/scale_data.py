"""The data of the cost curve (bench_scale.py): one database per size, seeded deterministically.

Every size is the `uk` scale (seed 7) with one thing changed, so that each point of the curve
differs from `uk` in one dimension only:

- `uk`:   `uk` as `opsmetrics seed --scale uk` loads it (8 weeks of bookings, 7 days of Slack);
- `h4`:   4x the history (32 weeks of bookings; 96 days of Slack, 13.7x), the same window;
          the multi-date backfills (up to 90 dates) run here, where every date has real data;
- `wN`:   N x the bookings in the window (0.5, 1, 2, 4) over 2 weeks of history (the job's cost
          does not depend on history, which `h4` checks): N draws of the seed's bookings with
          seeds 7, 8, ... (distinct ids, the same territories, profiles and bad-row rates); 0.5
          keeps a hashed half of one draw. The anchor day's classifications likewise;
- `o4`:   4x the Slack organizations (4,000) sharing the same classifications per day; the
          staffing side is the `small` scale's (only the trend job is timed there).

A database is seeded once and reused while its recipe (SeedSpec) is unchanged: its fingerprint is
kept in a table of its own. Seeding goes through the seed's own generating statements
(`seed.loader.generate`, `seed.territory.insert_bookings`, `seed.trends.insert_classifications`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from opsmetrics import migrations
from opsmetrics.config import Settings
from opsmetrics.db import build_engine, normalize_url
from opsmetrics.seed import territory, trends
from opsmetrics.seed.loader import OUTPUT_TABLES, SOURCE_TABLES, generate
from opsmetrics.seed.scales import SCALES, Scale
from opsmetrics.seed.sqlrand import SqlRand

SEED = 7
ANCHOR = date(2026, 11, 22)  # a Sunday, as the other benchmarks' uk database
EARLIER_SLACK_FACTOR = SCALES["uk"].earlier_days_factor  # Slack days before the last 7
MARK_TABLE = "bench_scale_seed"


@dataclass(frozen=True)
class SeedSpec:
    name: str
    window: float = 1.0  # bookings (and anchor-day classifications) per window, x uk
    history_weeks: int = 8
    slack_days: int = 7
    slack_orgs: int = 1_000
    small_staffing: bool = False

    @property
    def database(self) -> str:
        return f"opsmetrics_scale_{self.name}"

    @property
    def fingerprint(self) -> str:
        raw = json.dumps({**asdict(self), "seed": SEED, "anchor": ANCHOR.isoformat()})
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def scale(self) -> Scale:
        uk = SCALES["uk"]
        plan = replace(uk, history_weeks=self.history_weeks, slack_orgs=self.slack_orgs)
        if self.small_staffing:
            small = SCALES["small"]
            plan = replace(
                plan,
                staffing=small.staffing,
                busy_factor=small.busy_factor,
                history_weeks=1,
            )
        return plan


SPECS: dict[str, SeedSpec] = {
    s.name: s
    for s in (
        SeedSpec("uk"),
        SeedSpec("h4", history_weeks=32, slack_days=96),
        SeedSpec("w05", window=0.5, history_weeks=2),
        SeedSpec("w1", window=1.0, history_weeks=2),
        SeedSpec("w2", window=2.0, history_weeks=2),
        SeedSpec("w4", window=4.0, history_weeks=2),
        SeedSpec("o4", slack_orgs=4_000, small_staffing=True),
    )
}


def database_url(base_url: str, spec: SeedSpec) -> str:
    return make_url(base_url).set(database=spec.database).render_as_string(hide_password=False)


def ensure(base_url: str, spec: SeedSpec, settings: Settings, *, log: bool = True) -> Engine:
    """An engine on the spec's database, created and seeded first when missing or stale."""
    url, extra = normalize_url(base_url)
    admin = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={k: v for k, v in extra.items() if k == "unix_sock"},
    )
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": spec.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{spec.database}"'))
    admin.dispose()
    engine = build_engine(database_url(base_url, spec), settings)
    if _seeded_as(engine) != spec.fingerprint:
        started = time.perf_counter()
        migrations.upgrade(engine)
        rows = seed(engine, spec)
        # After the deletes of a fraction, rewrite the tables: a half-empty heap would make
        # every scan (the job's and its floor's) read twice the pages of the data it holds.
        _vacuum_analyze(engine, "FULL ANALYZE" if spec.window < 1 else "ANALYZE")
        if log:
            took = time.perf_counter() - started
            print(f"seeded {spec.database} in {took:.0f} s: {rows}", flush=True)
    return engine


def _seeded_as(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass(:t)"), {"t": MARK_TABLE}).scalar() is None:
            return None
        value = conn.execute(text(f"SELECT fingerprint FROM {MARK_TABLE}")).scalar()
    return str(value) if value else None


def seed(engine: Engine, spec: SeedSpec) -> dict[str, int]:
    """Load the spec's data in one transaction (as seed.load does), replacing what was there."""
    plan = spec.scale()
    with engine.connect() as conn, conn.begin():
        for setting in ("statement_timeout = 0", "work_mem = '64MB'", "jit = off"):
            conn.execute(text(f"SET LOCAL {setting}"))
        conn.execute(text("SET LOCAL enable_memoize = off"))
        conn.execute(text(f"DROP TABLE IF EXISTS {MARK_TABLE}"))
        conn.execute(text(f"TRUNCATE {', '.join(OUTPUT_TABLES + SOURCE_TABLES)} CASCADE"))
        counts = generate(conn, plan, SqlRand(SEED), ANCHOR)
        _more_draws(conn, spec, plan)
        _more_slack_days(conn, spec)
        if spec.window < 1:
            _keep_fraction(conn, spec.window)
        for table in SOURCE_TABLES:
            counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        conn.execute(text(f"CREATE TABLE {MARK_TABLE} (fingerprint text NOT NULL)"))
        conn.execute(text(f"INSERT INTO {MARK_TABLE} VALUES (:f)"), {"f": spec.fingerprint})
    return counts


def _more_draws(conn: Connection, spec: SeedSpec, plan: Scale) -> None:
    """Draws 2..N of the bookings and of the anchor day's classifications (seeds 8, 9, ...)."""
    draws = max(1, round(spec.window))
    for extra in range(1, draws):
        rand = SqlRand(SEED + extra)
        for day_no, day in enumerate(plan.booking_days(ANCHOR)):
            territory.insert_bookings(conn, rand, ANCHOR, day, day_no)
        anchor_no = len(plan.slack_days(ANCHOR)) - 1
        trends.insert_classifications(conn, rand, ANCHOR, anchor_no, 1.0)


def _more_slack_days(conn: Connection, spec: SeedSpec) -> None:
    """Classifications (and alerts) on the days before the seed's 7, at the uk earlier-day rate;
    day numbers continue past the seed's so that ids never collide."""
    rand = SqlRand(SEED)
    extra = [
        (ANCHOR - timedelta(days=back), 1000 + back, EARLIER_SLACK_FACTOR)
        for back in range(7, spec.slack_days)
    ]
    for day, day_no, factor in extra:
        trends.insert_classifications(conn, rand, day, day_no, factor)
    if extra:
        trends.insert_alerts(conn, rand, extra)


def _keep_fraction(conn: Connection, fraction: float) -> None:
    """Keep a hashed `fraction` of the bookings and of the anchor day's classifications."""
    keep = f"mod(abs(hashtext(id::text)), 1000) < {round(fraction * 1000)}"
    start = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=UTC)
    conn.execute(text(f"DELETE FROM bookings WHERE NOT {keep}"))
    conn.execute(
        text(
            f"DELETE FROM topic_classifications WHERE NOT {keep}"
            " AND created_at >= :start AND created_at < :end"
        ),
        {"start": start, "end": start + timedelta(days=1)},
    )


def _vacuum_analyze(engine: Engine, how: str) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.rollback()
        raw.autocommit = True
        try:
            raw.cursor().execute(f"VACUUM {how}")
        finally:
            raw.autocommit = False


def main() -> None:
    """Seed (or check) every size: `python benchmarks/scale_data.py [NAME ...]`."""
    import os
    import sys

    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("set DATABASE_URL to the server that holds the benchmark databases")
    settings = Settings.from_env()
    for name in sys.argv[1:] or list(SPECS):
        ensure(base, SPECS[name], settings).dispose()


if __name__ == "__main__":
    main()
