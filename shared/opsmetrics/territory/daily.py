"""daily-territory-metrics: one territory_metrics row per territory for metric date D.

Set-based, two statements in the run's one transaction:
1. the sums: group the window's bookings (shift_date in [D-6, D]) by organization and postcode
   key (spaces and tabs dropped, upper-cased: postcodes.key_sql), counting the status classes
   with one packed sum; finish the postcode rule once per distinct key, not once per booking;
   sum the keys per (organization, sector). With a parallel worker, into a temporary table
   (PARALLEL_WORKERS, SUMS_TABLE);
2. the write: join every territory to its sums (no sums: a zero row), compute the rates in
   numeric and write every row with one INSERT ... SELECT: a plain insert on a date without rows
   (every scheduled run), an upsert that leaves hiring_trigger_weeks and coverage_gap_weeks as the
   weekly job left them on a rerun. It returns the run's counts of good and bad bookings, from
   the same sums.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from opsmetrics.job_context import JobContext, JobOutcome
from opsmetrics.territory.postcodes import key_sql, sector_of_key_sql
from opsmetrics.territory.rules import (
    CANCELLED_STATUS,
    CONFIRMED_STATUSES,
    COUNTED_STATUSES,
    KNOWN_STATUSES,
    REJECTED_STATUS,
)
from opsmetrics.territory.rules_sql import rate_sql, utilization_sql

WINDOW_DAYS = 7  # spec §3: the 7 days ending on the metric date
SAMPLE_SIZE = 5  # bad values quoted in the one log line per run
UNKNOWN_SCAN_LIMIT = 50  # unknown-status rows looked at for that sample (the scan stops there)
# The window's (organization, postcode key) groups (~58,000 at UK scale) hash in memory; with the
# default 4MB they spill to disk (measured: 1.05 s against 0.8 s).
JOB_WORK_MEM = "64MB"
BAD_INPUT_MESSAGE = "bookings left out of territory metrics"

PENDING_STATUSES = tuple(
    s for s in COUNTED_STATUSES if s not in CONFIRMED_STATUSES and s != REJECTED_STATUS
)
# What the figures need of a booking's status: its class (unknown statuses are in none). In
# bit-field order; together exactly the known statuses.
STATUS_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pending", PENDING_STATUSES),
    ("confirmed", CONFIRMED_STATUSES),
    ("rejected", (REJECTED_STATUS,)),
    ("cancelled", (CANCELLED_STATUS,)),
)
# Each booking adds 1 to its class's bit field of a bigint, and one sum per group counts every
# class at once: one CASE and one sum per booking, where one FILTER per status cost 40 ms more at
# UK scale. A field holds up to 2**PACK_BITS - 1; when a group has more bookings than that (the
# largest at UK scale has 366) the day is counted again with one FILTER per class (write_day).
PACK_BITS = 15
# The CASE stops at the first match: the commonest statuses first (most bookings are completed).
CASE_ORDER = ("completed", "confirmed", "cancelled", "rejected", "pending")
# The day's rows are written by this job and by the weekly job's catch-up; both take this lock
# (with the date) so that the write sees every row the other one committed (see write_day).
ROWS_LOCK = "opsmetrics:territory_metrics rows"

# One parallel worker reads the window and computes every booking's postcode key while the
# leader groups them: a pipeline over two processes (measured at UK scale: 0.37 s against 0.53 s
# for the sums). PostgreSQL plans no parallel query for a statement that writes, so the sums go
# to a temporary table first (SUMS_TABLE). 0: no worker, no table, one statement does it all.
PARALLEL_WORKERS = 1
# For that one statement only; zero costs so that the planner takes the worker whenever it can.
# And no sort: the planner guesses the (organization, postcode key) groups from the rows (4x the
# bookings: 845,000 guessed for about 60,000 real ones, the same sites booked more often) and
# then groups by sorting; hashing them took 2.0-2.5 s against 3.9-4.0 s at 4x uk (a hash
# aggregate that outgrows work_mem spills to disk and stays correct).
PARALLEL_SETTINGS = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_index_scan_size": "0",
    "enable_sort": "off",
}
SUMS_TABLE = "territory_day_sums"  # temporary: the day's per_sector_sql rows
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE when the role may not create temporary tables

# insert: no row of the date exists in scope (plain INSERT); upsert: a rerun (counts and rates
# replaced, weekly counters kept); missing: only territories without a row (the weekly catch-up).
WriteMode = Literal["insert", "upsert", "missing"]


def window(day: date) -> tuple[date, date]:
    """First and last shift_date counted for metric date `day` (inclusive)."""
    return day - timedelta(days=WINDOW_DAYS - 1), day


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def per_key_sql(org_filter: str, *, packed: bool) -> str:
    """The window's bookings grouped by (organization, postcode key): n_all and n_<class> for
    each status class. packed: the class counts come from one sum of bit fields (PACK_BITS),
    exact while the group has at most 2**PACK_BITS - 1 bookings; otherwise one FILTER per class,
    exact always."""
    if packed:
        field_of = {s: i for i, (_, statuses) in enumerate(STATUS_CLASSES) for s in statuses}
        whens = " ".join(
            f"WHEN '{s}' THEN {1 << (PACK_BITS * field_of[s])}::bigint" for s in CASE_ORDER
        )
        field_max = (1 << PACK_BITS) - 1
        counts = ", ".join(
            f"((k.packed >> {PACK_BITS * i}) & {field_max})::int AS n_{name}"
            for i, (name, _) in enumerate(STATUS_CLASSES)
        )
        return f"""
            SELECT k.org_id, k.pc_key, k.n_all, {counts}
            FROM (
                SELECT b.org_id, {key_sql("b.site_postcode")} AS pc_key, count(*) AS n_all,
                       -- too big a group: no packed counts (the caller counts again), and no
                       -- bigint overflow on the way
                       CASE WHEN count(*) <= {field_max}
                            THEN sum(CASE b.status {whens} ELSE 0::bigint END)::bigint
                       END AS packed
                FROM bookings b
                WHERE b.shift_date BETWEEN :first_day AND :last_day {org_filter}
                GROUP BY 1, 2
            ) k
        """
    counts = ", ".join(
        f"count(*) FILTER (WHERE b.status IN {_in(statuses)}) AS n_{name}"
        for name, statuses in STATUS_CLASSES
    )
    return f"""
        SELECT b.org_id, {key_sql("b.site_postcode")} AS pc_key, count(*) AS n_all, {counts}
        FROM bookings b
        WHERE b.shift_date BETWEEN :first_day AND :last_day {org_filter}
        GROUP BY 1, 2
    """


def keys_sql(org_filter: str, *, packed: bool) -> str:
    """per_key_sql's groups with the sector of their key (NULL: not a UK postcode)."""
    return f"""
        -- OFFSET 0: the sector is computed once per key, not once per use
        SELECT k.*, {sector_of_key_sql("k.pc_key")} AS sector
        FROM ({per_key_sql(org_filter, packed=packed)}) k OFFSET 0
    """


def per_sector_sql(org_filter: str, *, packed: bool) -> str:
    """The keys summed per (organization, sector): the class counts, whether a territory of the
    organization covers the sector, the largest key group, and two malformed keys for the log."""
    known = "s.n_pending + s.n_confirmed + s.n_rejected + s.n_cancelled"
    return f"""
        SELECT s.org_id, s.sector,
               sum(s.n_all) AS n_all,
               sum(s.n_pending) + sum(s.n_confirmed) + sum(s.n_rejected) AS n_counted,
               sum(s.n_confirmed) AS n_confirmed,
               sum(s.n_rejected) AS n_rejected,
               sum(s.n_cancelled) AS n_cancelled,
               sum(s.n_pending) + sum(s.n_confirmed) + sum(s.n_rejected) + sum(s.n_cancelled)
                   AS n_known,
               max(s.n_all) AS biggest_key,
               -- two malformed keys per organization for the log (fixed-size aggregates keep
               -- this a hash aggregate; array_agg would turn it into a sort)
               min(s.pc_key) FILTER (WHERE s.sector IS NULL AND {known} > 0) AS bad_key_1,
               max(s.pc_key) FILTER (WHERE s.sector IS NULL AND {known} > 0) AS bad_key_2,
               EXISTS (SELECT 1 FROM territories t
                       WHERE t.org_id = s.org_id AND t.postcode_sector = s.sector) AS covered
        FROM ({keys_sql(org_filter, packed=packed)}) s
        GROUP BY s.org_id, s.sector
    """


# The weekly counters are deliberately absent: a rerun keeps them. Every row is updated, also
# one whose figures did not change: computed_at says when the run computed it.
_UPDATE = """DO UPDATE SET
            org_id = EXCLUDED.org_id,
            postcode_sector = EXCLUDED.postcode_sector,
            total_bookings = EXCLUDED.total_bookings,
            confirmed_bookings = EXCLUDED.confirmed_bookings,
            rejected_bookings = EXCLUDED.rejected_bookings,
            rejection_rate = EXCLUDED.rejection_rate,
            fulfillment_rate = EXCLUDED.fulfillment_rate,
            primary_medic_utilization = EXCLUDED.primary_medic_utilization,
            computed_at = EXCLUDED.computed_at"""


def write_sql(
    *, org_id: uuid.UUID | None, mode: WriteMode, packed: bool = True, sums_table: bool = False
) -> str:
    """The statement that writes the day. sums_table: read the sums from SUMS_TABLE (made by
    sums_table_sql), else compute them in this statement (per_sector_sql). packed (see
    per_key_sql): when a group has too many bookings for the packed counts, the statement writes
    nothing and returns `overflow`."""
    b_filter = "AND b.org_id = :org_id" if org_id else ""
    t_filter = "AND t.org_id = :org_id" if org_id else ""
    conflict = ""
    if mode == "upsert":
        conflict = f"ON CONFLICT (territory_id, metric_date) {_UPDATE}"
    elif mode == "missing":
        t_filter += (
            " AND NOT EXISTS (SELECT 1 FROM territory_metrics x"
            " WHERE x.territory_id = t.id AND x.metric_date = :day)"
        )
        conflict = "ON CONFLICT (territory_id, metric_date) DO NOTHING"
    overflow = (
        f"coalesce((SELECT max(biggest_key) FROM per_sector), 0) > {(1 << PACK_BITS) - 1}"
        if packed
        else "false"
    )
    sums = SUMS_TABLE if sums_table else f"({per_sector_sql(b_filter, packed=packed)})"
    return f"""
    WITH per_sector AS (SELECT * FROM {sums} s),
    figures AS (
        SELECT t.id AS territory_id, t.org_id, t.postcode_sector,
               coalesce(ps.n_counted, 0)::int AS total,
               coalesce(ps.n_confirmed, 0)::int AS confirmed,
               coalesce(ps.n_rejected, 0)::int AS rejected
        FROM territories t
        LEFT JOIN per_sector ps ON ps.org_id = t.org_id AND ps.sector = t.postcode_sector
        WHERE true {t_filter}
    ),
    written AS (
        INSERT INTO territory_metrics AS m (
            territory_id, org_id, postcode_sector, metric_date, total_bookings,
            confirmed_bookings, rejected_bookings, rejection_rate, fulfillment_rate,
            primary_medic_utilization, computed_at)
        SELECT f.territory_id, f.org_id, f.postcode_sector, :day, f.total, f.confirmed,
               f.rejected, {rate_sql("f.rejected", "f.total")},
               {rate_sql("f.confirmed", "f.total")}, {utilization_sql("f.confirmed")},
               now()
        FROM figures f
        WHERE NOT {overflow}
        ORDER BY f.territory_id  -- primary-key order: the index pages are visited in turn
        {conflict}
        RETURNING 1
    )
    SELECT
        {overflow} AS overflow,
        (SELECT count(*) FROM written) AS territories_written,
        (SELECT count(*) FROM figures) AS territories_in_scope,
        coalesce(sum(n_all), 0) AS bookings_in_window,
        coalesce(sum(n_counted) FILTER (WHERE covered), 0) AS counted_bookings,
        coalesce(sum(n_cancelled) FILTER (WHERE covered), 0) AS cancelled_bookings,
        coalesce(sum(n_all - n_known), 0) AS unknown_status_bookings,
        coalesce(sum(n_known) FILTER (WHERE sector IS NULL), 0) AS malformed_postcode_bookings,
        coalesce(sum(n_known) FILTER (WHERE sector IS NOT NULL AND NOT covered), 0)
            AS no_territory_bookings,
        (SELECT array_agg(k) FROM (
            SELECT DISTINCT unnest(ARRAY[bad_key_1, bad_key_2]) AS k FROM per_sector
            WHERE bad_key_1 IS NOT NULL ORDER BY 1 LIMIT {SAMPLE_SIZE}) x) AS malformed_sample,
        (SELECT array_agg(sector) FROM (
            SELECT sector FROM per_sector
            WHERE sector IS NOT NULL AND NOT covered AND n_known > 0
            ORDER BY sector LIMIT {SAMPLE_SIZE}) x) AS no_territory_sample
    FROM per_sector
    """


def sums_table_sql(org_id: uuid.UUID | None) -> str:
    """The day's per_sector_sql rows (packed counts) into SUMS_TABLE, dropped at the commit."""
    b_filter = "AND b.org_id = :org_id" if org_id else ""
    return (
        f"CREATE TEMPORARY TABLE {SUMS_TABLE} ON COMMIT DROP AS"
        f" {per_sector_sql(b_filter, packed=True)}"
    )


def day_has_rows_sql(org_filter: str) -> str:
    """Whether any row of the date exists (in scope): one index probe per organization."""
    return f"""
        SELECT EXISTS (
            SELECT 1 FROM organizations o
            CROSS JOIN LATERAL (
                SELECT 1 FROM territory_metrics m
                WHERE m.org_id = o.id AND m.metric_date = :day LIMIT 1) x
            WHERE true {org_filter})
    """


def unknown_status_sql(org_filter: str) -> str:
    """A few distinct unknown statuses of the window, read only when there are some: the first
    rows found are enough for a log sample, so the scan stops early."""
    return f"""
        SELECT DISTINCT status FROM (
            SELECT b.status FROM bookings b
            WHERE b.shift_date BETWEEN :first_day AND :last_day {org_filter}
              AND b.status NOT IN {_in(KNOWN_STATUSES)}
            LIMIT {UNKNOWN_SCAN_LIMIT}) x
        ORDER BY 1 LIMIT {SAMPLE_SIZE}
    """


@dataclass
class DayCounts:
    """What one day's write did: rows written and how the window's bookings were used."""

    metric_date: date
    territories_written: int
    territories_in_scope: int
    bookings_in_window: int
    counted_bookings: int  # pending, confirmed, completed, rejected, in a territory
    cancelled_bookings: int  # in a territory; never counted
    unknown_status_bookings: int  # any status outside the five known ones
    malformed_postcode_bookings: int  # known status, not a UK postcode
    no_territory_bookings: int  # known status, a postcode of no territory of its organization
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def unmatched_bookings(self) -> int:
        return self.malformed_postcode_bookings + self.no_territory_bookings

    @property
    def bad_rows(self) -> int:
        return self.unmatched_bookings + self.unknown_status_bookings

    @classmethod
    def from_row(
        cls, day: date, row: Mapping[Any, Any], *, written: int, in_scope: int
    ) -> DayCounts:
        """From a counting statement's row (one date's, or one date of a pass)."""
        return cls(
            metric_date=day,
            territories_written=written,
            territories_in_scope=in_scope,
            bookings_in_window=int(row["bookings_in_window"]),
            counted_bookings=int(row["counted_bookings"]),
            cancelled_bookings=int(row["cancelled_bookings"]),
            unknown_status_bookings=int(row["unknown_status_bookings"]),
            malformed_postcode_bookings=int(row["malformed_postcode_bookings"]),
            no_territory_bookings=int(row["no_territory_bookings"]),
            samples={
                "malformed_postcodes": list(row["malformed_sample"] or []),
                "no_territory_sectors": list(row["no_territory_sample"] or []),
            },
        )

    def stats(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("samples")
        out["metric_date"] = self.metric_date.isoformat()
        out["unmatched_bookings"] = self.unmatched_bookings
        out["window_start"] = window(self.metric_date)[0].isoformat()
        return out


def write_day(
    conn: Connection, day: date, *, org_id: uuid.UUID | None = None, only_missing: bool = False
) -> DayCounts:
    """Write the territory_metrics rows of `day` (for one organization, or all).

    only_missing: insert rows only for territories that have none for `day` (the weekly job's
    catch-up); existing rows are left exactly as they are.
    """
    first_day, last_day = window(day)
    params: dict[str, Any] = {"first_day": first_day, "last_day": last_day, "day": day}
    if org_id:
        params["org_id"] = org_id
    # For this transaction only. JIT off: compiling this statement costs more than it saves
    # (measured at UK scale: 1.6 s with JIT against 0.8 s without). The rows lock is held until
    # the commit: a concurrent writer of the same date (the other job) waits for this one.
    conn.execute(
        text(
            "SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true),"
            " pg_advisory_xact_lock(hashtext(:rows_lock), :day_number)"
        ),
        {
            "work_mem": JOB_WORK_MEM,
            "rows_lock": ROWS_LOCK,
            "day_number": (day - date(2000, 1, 1)).days,
        },
    )
    mode: WriteMode = "missing"
    if not only_missing:
        # A statement after the lock: it sees whatever the other job committed meanwhile, so a
        # plain INSERT cannot meet an existing row (the upsert's conflict check costs 20 ms).
        o_filter = "AND o.id = :org_id" if org_id else ""
        exists = conn.execute(text(day_has_rows_sql(o_filter)), params).scalar_one()
        mode = "upsert" if exists else "insert"

    def write(packed: bool, sums_table: bool) -> Any:
        sql = write_sql(org_id=org_id, mode=mode, packed=packed, sums_table=sums_table)
        return conn.execute(text(sql), params).mappings().one()

    in_table = PARALLEL_WORKERS > 0 and _make_sums_table(conn, org_id, params)
    row = write(packed=True, sums_table=in_table)
    if in_table:  # leave the transaction as it was (the weekly job goes on in it)
        conn.execute(text(f"DROP TABLE {SUMS_TABLE}"))
    if row["overflow"]:  # nothing was written: count again, one FILTER per status class
        row = write(packed=False, sums_table=False)
    counts = DayCounts.from_row(
        day,
        row,
        written=int(row["territories_written"]),
        in_scope=int(row["territories_in_scope"]),
    )
    if counts.unknown_status_bookings:
        b_filter = "AND b.org_id = :org_id" if org_id else ""
        found = conn.execute(text(unknown_status_sql(b_filter)), params).scalars()
        counts.samples["unknown_statuses"] = list(found)
    log_bad_input(counts)
    return counts


def _make_sums_table(conn: Connection, org_id: uuid.UUID | None, params: dict[str, Any]) -> bool:
    """SUMS_TABLE with PARALLEL_SETTINGS for its statement; False (nothing made) when the role
    may not create temporary tables: the caller then computes the sums in its own statement."""
    return create_in_parallel(conn, sums_table_sql(org_id), params)


def create_in_parallel(conn: Connection, create_sql: str, params: dict[str, Any]) -> bool:
    """Run a CREATE TEMPORARY TABLE ... AS with PARALLEL_SETTINGS for that statement only; False
    (nothing made) when the role may not create temporary tables."""
    names = ["max_parallel_workers_per_gather", *PARALLEL_SETTINGS]
    values = [str(PARALLEL_WORKERS), *PARALLEL_SETTINGS.values()]
    conn.execute(
        text(
            "SELECT set_config(n, v, true)"
            " FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) AS x(n, v)"
        ),
        {"n": names, "v": values},
    )
    made = True
    try:
        with conn.begin_nested():
            conn.execute(text(create_sql), params)
    except DBAPIError as exc:
        if INSUFFICIENT_PRIVILEGE not in str(exc):
            raise
        made = False
    # Back to the configured values for the rest of the transaction.
    conn.execute(
        text(
            "SELECT set_config(name, reset_val, true) FROM pg_settings"
            " WHERE name = ANY(CAST(:n AS text[]))"
        ),
        {"n": names},
    )
    return made


def log_bad_input(counts: DayCounts) -> None:
    """One warning per run when bookings were left out, with a few of the offending values."""
    if not counts.bad_rows:
        return
    from opsmetrics.observability import logger

    logger().warning(
        BAD_INPUT_MESSAGE,
        extra={
            "metric_date": counts.metric_date.isoformat(),
            "unknown_status_bookings": counts.unknown_status_bookings,
            "malformed_postcode_bookings": counts.malformed_postcode_bookings,
            "no_territory_bookings": counts.no_territory_bookings,
            "samples": counts.samples,
        },
    )


def compute(ctx: JobContext) -> JobOutcome:
    counts = write_day(ctx.conn, ctx.target_date, org_id=ctx.org_id)
    return JobOutcome(
        stats=counts.stats(),
        rows_written=counts.territories_written,
        bad_rows=counts.bad_rows,
        result={
            "metric_date": counts.metric_date.isoformat(),
            "territories_written": counts.territories_written,
            "bad_rows": counts.bad_rows,
        },
    )
