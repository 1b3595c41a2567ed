"""daily-territory-metrics for many metric dates in one pass (opsmetrics.batch calls it).

Each day of the covered span (first date - 6 .. last date) is read and summed once, where N
separate runs would read every day up to 7 times; each date's window is then summed from the day
sums (batch_sql.py). The rows written and each date's counts are exactly those of a run of that
date alone (tests/territory/test_backfill_batch_db.py compares the two on every kind of bad row).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.job_context import BatchContext, JobOutcome
from opsmetrics.territory import batch_sql, daily, daily_sql
from opsmetrics.territory.daily import DayCounts, log_bad_input

# The pass hashes a few hundred thousand (date, organization, sector) groups (about 400,000 for
# 30 dates at UK scale, 100 MB): with the one-date job's 64MB they spill, and once the temporary
# tables had no statistics the planner sorted on disk instead (measured: windows 5.2 s against
# 2.4 s). For this transaction only; one connection.
BATCH_WORK_MEM = "256MB"


def compute_many(ctx: BatchContext) -> dict[date, JobOutcome]:
    counts = write_days(ctx.conn, ctx.dates, org_id=ctx.org_id)
    return {
        d: JobOutcome(
            stats=c.stats(),
            rows_written=c.territories_written,
            bad_rows=c.bad_rows,
            result={
                "metric_date": d.isoformat(),
                "territories_written": c.territories_written,
                "bad_rows": c.bad_rows,
            },
        )
        for d, c in counts.items()
    }


def write_days(conn: Connection, dates: list[date], *, org_id: Any = None) -> dict[date, DayCounts]:
    """Write the territory_metrics rows of every date in `dates` (ascending), as write_day does
    for each; returns each date's counts."""
    first_day, last_day = span(dates)
    params: dict[str, Any] = {
        "first_day": first_day,
        "last_day": last_day,
        "dates": [d.isoformat() for d in dates],
    }
    b_filter = t_filter = o_filter = ""
    if org_id:
        params["org_id"] = org_id
        b_filter, t_filter, o_filter = (
            "AND b.org_id = :org_id",
            "AND t.org_id = :org_id",
            "AND o.id = :org_id",
        )
    # As write_day, for this transaction: work_mem (BATCH_WORK_MEM), no JIT, and each date's
    # rows lock (oldest first, the order the weekly job's catch-up takes them in too).
    conn.execute(
        text(
            "SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true),"
            " (SELECT count(pg_advisory_xact_lock(hashtext(:rows_lock), n))"
            "  FROM (SELECT unnest(CAST(:days AS int[])) AS n ORDER BY 1 OFFSET 0) x)"
        ),
        {
            "work_mem": BATCH_WORK_MEM,
            "rows_lock": daily.ROWS_LOCK,
            "days": [(d - date(2000, 1, 1)).days for d in dates],
        },
    )
    existing = set(conn.execute(text(batch_sql.dates_with_rows_sql(o_filter)), params).scalars())

    _make_days_table(conn, b_filter, params)
    # statistics for the next statement's plan (a temporary table has none until analysed)
    conn.execute(text(f"ANALYZE {batch_sql.DAYS_TABLE}"))
    conn.execute(text(batch_sql.windows_table_sql()), params)
    conn.execute(text(f"ANALYZE {batch_sql.WINDOWS_TABLE}"))

    written: dict[date, int] = {}
    fresh = [d for d in dates if d not in existing]
    for upsert, subset in ((False, fresh), (True, sorted(existing))):
        if subset:
            rows = conn.execute(
                text(batch_sql.write_sql(t_filter=t_filter, upsert=upsert)),
                {**params, "dates": [d.isoformat() for d in subset]},
            )
            written.update({r.metric_date: int(r.territories_written) for r in rows})
    in_scope = int(
        conn.execute(
            text(f"SELECT count(*) FROM territories t WHERE true {t_filter}"), params
        ).scalar_one()
    )
    stats = conn.execute(text(batch_sql.stats_sql()), params).mappings().all()
    unknown: list[str] = []
    if any(row["unknown_status_bookings"] for row in stats):
        unknown = list(
            conn.execute(text(batch_sql.unknown_statuses_sql(b_filter)), params).scalars()
        )
    conn.execute(text(f"DROP TABLE {batch_sql.WINDOWS_TABLE}, {batch_sql.DAYS_TABLE}"))

    out: dict[date, DayCounts] = {}
    for row in stats:
        day = row["metric_date"]
        counts = DayCounts.from_row(day, row, written=written.get(day, 0), in_scope=in_scope)
        if counts.unknown_status_bookings:
            # one look at the span serves every date: the sample is for the log only
            counts.samples["unknown_statuses"] = unknown
        log_bad_input(counts)
        out[day] = counts
    return out


def _make_days_table(conn: Connection, b_filter: str, params: dict[str, Any]) -> None:
    """DAYS_TABLE, packed counts with the job's parallel worker; again with one FILTER per class
    when a (key, day) group had too many bookings for the packed counts."""
    packed_sql = batch_sql.days_table_sql(b_filter, packed=True)
    if not daily.create_in_parallel(conn, packed_sql, params):
        conn.execute(text(packed_sql), params)  # (no temporary tables: this fails, as it must)
    overflow = conn.execute(text(f"SELECT bool_or(overflow) FROM {batch_sql.DAYS_TABLE}"))
    if overflow.scalar():
        conn.execute(text(f"DROP TABLE {batch_sql.DAYS_TABLE}"))
        conn.execute(text(batch_sql.days_table_sql(b_filter, packed=False)), params)


def span(dates: list[date]) -> tuple[date, date]:
    """The shift days a pass over `dates` reads."""
    return dates[0] - timedelta(days=daily_sql.WINDOW_DAYS - 1), dates[-1]
