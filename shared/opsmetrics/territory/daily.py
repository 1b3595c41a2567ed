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
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from opsmetrics.job_context import JobContext, JobOutcome
from opsmetrics.territory import daily_sql
from opsmetrics.territory.daily_sql import SUMS_TABLE, WriteMode, window

# The window's (organization, postcode key) groups (~58,000 at UK scale) hash in memory; with the
# default 4MB they spill to disk (measured: 1.05 s against 0.8 s).
JOB_WORK_MEM = "64MB"
BAD_INPUT_MESSAGE = "bookings left out of territory metrics"

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
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE when the role may not create temporary tables


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
        exists = conn.execute(text(daily_sql.day_has_rows_sql(o_filter)), params).scalar_one()
        mode = "upsert" if exists else "insert"

    def write(packed: bool, sums_table: bool) -> Any:
        sql = daily_sql.write_sql(org_id=org_id, mode=mode, packed=packed, sums_table=sums_table)
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
        found = conn.execute(text(daily_sql.unknown_status_sql(b_filter)), params).scalars()
        counts.samples["unknown_statuses"] = list(found)
    log_bad_input(counts)
    return counts


def _make_sums_table(conn: Connection, org_id: uuid.UUID | None, params: dict[str, Any]) -> bool:
    """SUMS_TABLE with PARALLEL_SETTINGS for its statement; False (nothing made) when the role
    may not create temporary tables: the caller then computes the sums in its own statement."""
    return create_in_parallel(conn, daily_sql.sums_table_sql(org_id), params)


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
