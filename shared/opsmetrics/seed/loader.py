"""`seed.load`: fill the source tables with one scale's synthetic data, in one transaction.

Everything is generated inside PostgreSQL from a handful of statements (generate_series and
seeded hashes), so even the uk scale's millions of rows never cross the wire. A failure rolls
the whole load back: the database holds either the previous data or the new data, never half.
"""

from __future__ import annotations

import math
import time
from datetime import date

from sqlalchemy import Connection, Engine, text

from opsmetrics.errors import BadRequest, ConfigError
from opsmetrics.migrations import VERSION_TABLE
from opsmetrics.seed import territory, trends
from opsmetrics.seed.geography import catalogue
from opsmetrics.seed.names import org_names
from opsmetrics.seed.scales import SCALES, Scale
from opsmetrics.seed.sqlrand import SqlRand

SOURCE_TABLES = (
    "organizations",
    "medics",
    "territories",
    "bookings",
    "topic_classifications",
    "escalation_alerts",
)
OUTPUT_TABLES = ("territory_metrics", "communication_trends", "job_runs")
# Rows one generating statement writes at most (about): each stays at a couple of seconds, well
# inside any client socket timeout, and its sort and hash work inside work_mem.
ROWS_PER_STATEMENT = 100_000
# Two loads at once would interleave their checks and truncates; the second waits instead.
_LOCK = "opsmetrics:seed"


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise BadRequest(f"unknown scale {name!r}; known scales: {', '.join(SCALES)}") from None


def load(engine: Engine, *, scale: str, seed: int, anchor: date, reset: bool) -> dict[str, int]:
    """Load `scale` with `seed`, data up to `anchor`; returns the rows written per table.

    Refuses (BadRequest, nothing written) when the source tables already hold rows and `reset`
    is false; with `reset` it first empties the source and the output tables.
    """
    from opsmetrics.observability import logger

    plan = scale_named(scale)
    log = logger()
    started = time.perf_counter()
    with engine.connect() as conn, conn.begin():
        _check_schema(conn)
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})
        # A big load must not hit a server-wide statement timeout; temp tables need some room.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        # The generated statements look expensive to the planner (generate_series is guessed at
        # 1000 rows) but each takes milliseconds: JIT compiling them costs more than it saves,
        # and memoizing per-row hash expressions never hits.
        conn.execute(text("SET LOCAL jit = off"))
        conn.execute(text("SET LOCAL enable_memoize = off"))
        if reset:
            conn.execute(text(f"TRUNCATE {', '.join(OUTPUT_TABLES + SOURCE_TABLES)}"))
        else:
            filled = _tables_with_rows(conn)
            if filled:
                raise BadRequest(
                    f"the database already has data ({', '.join(filled)}); use --reset"
                    " to empty the source and output tables and load again"
                )
        counts = generate(conn, plan, SqlRand(seed), anchor)
        for table in SOURCE_TABLES:
            conn.execute(text(f"ANALYZE {table}"))
    log.info(
        "seed loaded",
        extra={
            "scale": plan.name,
            "seed": seed,
            "anchor": anchor.isoformat(),
            "rows": counts,
            "duration_ms": round((time.perf_counter() - started) * 1000),
        },
    )
    return counts


def generate(conn: Connection, plan: Scale, rand: SqlRand, anchor: date) -> dict[str, int]:
    """Write every source table on `conn` (inside its transaction); rows written per table."""
    from opsmetrics.observability import logger

    log = logger()
    counts: dict[str, int] = {}
    _stage_orgs(conn, plan, rand, anchor)
    counts["organizations"] = conn.execute(
        text(
            "INSERT INTO organizations (id, name, created_at)"
            " SELECT id, name, created_at FROM seed_orgs ORDER BY org_no"
        )
    ).rowcount
    _stage_catalogue(conn)
    territory.build_territories(conn, plan, rand)
    counts["medics"] = territory.insert_medics(conn, rand)
    counts["territories"] = territory.insert_territories(conn)
    counts["bookings"] = 0
    for day_no, day in enumerate(plan.booking_days(anchor)):
        counts["bookings"] += territory.insert_bookings(conn, rand, anchor, day, day_no)
    log.info("seed: bookings written", extra={"bookings": counts["bookings"]})
    trends.build_channels(conn, plan, rand)
    slack_days = [(d.day, n, d.factor) for n, d in enumerate(plan.slack_days(anchor))]
    counts["topic_classifications"] = 0
    for utc_day, day_no, factor in slack_days:
        chunks = math.ceil(plan.classifications_on_anchor_day * factor / ROWS_PER_STATEMENT)
        for chunk in range(chunks):
            counts["topic_classifications"] += trends.insert_classifications(
                conn, rand, utc_day, day_no, factor, chunk, chunks
            )
    counts["escalation_alerts"] = trends.insert_alerts(conn, rand, slack_days)
    return counts


def _check_schema(conn: Connection) -> None:
    """Seed only where `opsmetrics db upgrade` created the source tables itself.

    A product database (schema applied with --outputs-only) holds real data: never seed there.
    """
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}).scalar() is None:
        raise ConfigError("no opsmetrics schema here: run `opsmetrics db upgrade` first")
    versions = [r[0] for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    if not any(v.startswith("s") for v in versions):
        raise ConfigError(
            "the source tables here were not created by opsmetrics (a product database?);"
            " seed only into a database set up with `opsmetrics db upgrade`"
        )


def _tables_with_rows(conn: Connection) -> list[str]:
    probes = " UNION ALL ".join(
        f"SELECT {i} AS i, '{t}' AS tbl WHERE EXISTS (SELECT FROM {t})"
        for i, t in enumerate(SOURCE_TABLES)
    )
    return [r[0] for r in conn.execute(text(f"SELECT tbl FROM ({probes}) x ORDER BY i"))]


def _stage_orgs(conn: Connection, plan: Scale, rand: SqlRand, anchor: date) -> None:
    """seed_orgs: staffing organizations first (the first is also a Slack customer), then the
    Slack-only ones."""
    names = [o.name for o in plan.staffing] + org_names(plan.slack_orgs - 1, rand.seed)
    staffing = [i + 1 for i in range(len(plan.staffing))] + [0] * (plan.slack_orgs - 1)
    slack = [1] + [0] * (len(plan.staffing) - 1) + list(range(2, plan.slack_orgs + 1))
    territories = [o.territories for o in plan.staffing] + [0] * (plan.slack_orgs - 1)
    regions = ["|".join(o.regions) for o in plan.staffing] + [""] * (plan.slack_orgs - 1)
    medics = [plan.medics_of(o) for o in plan.staffing] + [0] * (plan.slack_orgs - 1)
    h = rand.hash("org", "x.org_no")
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE seed_orgs ON COMMIT DROP AS
            SELECT x.org_no::int AS org_no, {rand.uuid("org", "x.org_no")} AS id, x.name,
                   NULLIF(x.staffing_no, 0) AS staffing_no, NULLIF(x.slack_no, 0) AS slack_no,
                   x.territories, string_to_array(NULLIF(x.regions, ''), '|') AS regions,
                   x.n_medics,
                   -- customers for a year or more before the data starts
                   ((DATE '{anchor.isoformat()}' - 365 - {rand.below(h, 1000)}::int)::timestamp
                    + {rand.below(f"{h} >> 32", 86400)} * interval '1 second')
                   AT TIME ZONE 'UTC' AS created_at
            FROM unnest(CAST(:names AS text[]), CAST(:staffing AS int[]), CAST(:slack AS int[]),
                        CAST(:territories AS int[]), CAST(:regions AS text[]),
                        CAST(:medics AS int[]))
                 WITH ORDINALITY AS x (name, staffing_no, slack_no, territories, regions,
                                       n_medics, org_no)
            """
        ),
        {
            "names": names,
            "staffing": staffing,
            "slack": slack,
            "territories": territories,
            "regions": regions,
            "medics": medics,
        },
    )


def _stage_catalogue(conn: Connection) -> None:
    sectors = catalogue()
    conn.execute(
        text(
            """
            CREATE TEMP TABLE seed_catalogue ON COMMIT DROP AS
            SELECT x.n::int AS cat_no, x.sector, x.outward, x.digit, x.region
            FROM unnest(CAST(:sector AS text[]), CAST(:outward AS text[]),
                        CAST(:digit AS text[]), CAST(:region AS text[]))
                 WITH ORDINALITY AS x (sector, outward, digit, region, n)
            """
        ),
        {
            "sector": [s.sector for s in sectors],
            "outward": [s.outward for s in sectors],
            "digit": [s.digit for s in sectors],
            "region": [s.region for s in sectors],
        },
    )
