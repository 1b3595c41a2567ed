"""The SQL of daily-territory-metrics for many metric dates in one pass (territory/batch.py).

A date's figures are sums over the 7 days of its window, so the pass sums each day once:
1. DAYS_TABLE: the span's bookings (first date - 6 .. last date) grouped by (organization,
   postcode key, shift day) in one scan, the sector found once per distinct key, then summed
   per (organization, sector, day): the class counts and the two smallest/largest malformed keys;
2. WINDOWS_TABLE: each date's window summed from those day rows (an equi-join of each day to the
   up to 7 dates whose window holds it; measured faster than moving sums over a dense grid of
   days, which needs two sorts): per (date, organization, sector), the rows that
   daily_sql.per_sector_sql gives for one date, with the same columns and the same values;
3. the write: every territory for every date, one INSERT ... SELECT (an upsert for the dates that
   already have rows, a plain insert for the others), and one statement of per-date stats.

Same rules as the one-date job (daily_sql.py): the status classes and their packed counts
(STATUS_CLASSES, PACK_BITS; a day with more than 2**PACK_BITS - 1 bookings on one key makes the
caller count again with one FILTER per class), the postcode key and sector (postcodes.py), the
INSERT with its rates (insert_sql), the weekly counters left as they are on a rerun
(RERUN_UPDATE).
"""

from __future__ import annotations

from opsmetrics.territory import daily_sql
from opsmetrics.territory.postcodes import key_sql, sector_of_key_sql

DAYS_TABLE = "territory_span_days"  # temporary: (org, sector, day) sums of the span
WINDOWS_TABLE = "territory_span_windows"  # temporary: (date, org, sector) sums of each window

_CLASSES = [name for name, _ in daily_sql.STATUS_CLASSES]


def _per_key_day_sql(b_filter: str, *, packed: bool) -> str:
    """The span's bookings per (organization, postcode key, shift day), with n_<class> counts.
    packed: as daily_sql.per_key_sql (one sum of bit fields; NULL counts when a group is too
    big)."""
    head = f"""
        SELECT b.org_id, {key_sql("b.site_postcode")} AS pc_key, b.shift_date AS day,
               count(*)::int AS n_all"""
    scan = f"""
        FROM bookings b
        WHERE b.shift_date BETWEEN :first_day AND :last_day {b_filter}
        GROUP BY 1, 2, 3"""
    if not packed:
        return f"{head}, {daily_sql.class_counts_sql()} {scan}"
    return f"""
        SELECT k.org_id, k.pc_key, k.day, k.n_all, {daily_sql.unpacked_sql("k.packed")}
        FROM ({head},
               CASE WHEN count(*) <= {daily_sql.field_max()}
                    THEN {daily_sql.packed_sum_sql()}
               END AS packed
               {scan}) k
    """


def days_table_sql(b_filter: str, *, packed: bool) -> str:
    """CREATE DAYS_TABLE: per (organization, sector, day) the class counts; `overflow` when a
    packed group was too big (its counts are NULL: the caller builds the table again unpacked)."""
    known = " + ".join(f"p.n_{name}" for name in _CLASSES)
    # int, not bigint: sum(int) adds in bigint, sum(bigint) in numeric (measured: 3x slower)
    sums = ", ".join(f"sum(p.n_{name})::int AS n_{name}" for name in _CLASSES)
    overflow = "bool_or(p.n_pending IS NULL)" if packed else "false"
    return f"""
    CREATE TEMPORARY TABLE {DAYS_TABLE} ON COMMIT DROP AS
    SELECT p.org_id, p.sector, p.day,
           sum(p.n_all)::int AS n_all, {sums},
           -- the malformed keys of the log sample, as daily_sql.per_sector_sql takes them
           min(p.pc_key) FILTER (WHERE p.sector IS NULL AND {known} > 0) AS bad_key_1,
           max(p.pc_key) FILTER (WHERE p.sector IS NULL AND {known} > 0) AS bad_key_2,
           {overflow} AS overflow
    FROM (
        -- OFFSET 0: the sector once per (key, day) group, not once per booking
        SELECT k.*, {sector_of_key_sql("k.pc_key")} AS sector
        FROM ({_per_key_day_sql(b_filter, packed=packed)}) k OFFSET 0
    ) p
    GROUP BY p.org_id, p.sector, p.day
    """


def windows_table_sql() -> str:
    """CREATE WINDOWS_TABLE: for each date in :dates, daily_sql.per_sector_sql's rows of its window
    (the same column names and values), plus metric_date."""
    return f"""
    CREATE TEMPORARY TABLE {WINDOWS_TABLE} ON COMMIT DROP AS
    WITH window_days AS (
        -- each requested date with the 7 days of its window: an equi-join key for the day rows
        SELECT d.metric_date, d.metric_date - w.back AS day
        FROM unnest(CAST(:dates AS date[])) AS d(metric_date)
        CROSS JOIN generate_series(0, {daily_sql.WINDOW_DAYS - 1}) AS w(back)
    ),
    summed AS (
        SELECT wd.metric_date, s.org_id, s.sector,
               sum(s.n_all) AS n_all,
               sum(s.n_pending) AS n_pending, sum(s.n_confirmed) AS n_confirmed,
               sum(s.n_rejected) AS n_rejected, sum(s.n_cancelled) AS n_cancelled,
               min(s.bad_key_1) AS bad_key_1, max(s.bad_key_2) AS bad_key_2
        FROM {DAYS_TABLE} s JOIN window_days wd ON wd.day = s.day
        GROUP BY wd.metric_date, s.org_id, s.sector
    )
    SELECT s.metric_date, s.org_id, s.sector, s.n_all,
           s.n_pending + s.n_confirmed + s.n_rejected AS n_counted,
           s.n_confirmed, s.n_rejected, s.n_cancelled,
           s.n_pending + s.n_confirmed + s.n_rejected + s.n_cancelled AS n_known,
           s.bad_key_1, s.bad_key_2,
           EXISTS (SELECT 1 FROM territories t
                   WHERE t.org_id = s.org_id AND t.postcode_sector = s.sector) AS covered
    FROM summed s
    """


def write_sql(*, t_filter: str, upsert: bool) -> str:
    """Every territory in scope for every date in :dates: one INSERT ... SELECT of the same rows
    daily_sql.write_sql writes for each date. upsert: those dates already have rows (a rerun)."""
    conflict = f"ON CONFLICT (territory_id, metric_date) {daily_sql.RERUN_UPDATE}" if upsert else ""
    return f"""
    WITH figures AS (
        SELECT d.metric_date, t.id AS territory_id, t.org_id, t.postcode_sector,
               coalesce(w.n_counted, 0)::int AS total,
               coalesce(w.n_confirmed, 0)::int AS confirmed,
               coalesce(w.n_rejected, 0)::int AS rejected
        FROM unnest(CAST(:dates AS date[])) AS d(metric_date)
        CROSS JOIN territories t
        LEFT JOIN {WINDOWS_TABLE} w
               ON w.metric_date = d.metric_date AND w.org_id = t.org_id
              AND w.sector = t.postcode_sector
        WHERE true {t_filter}
    ),
    written AS (
        {daily_sql.insert_sql("f.metric_date")}
        FROM figures f
        ORDER BY f.metric_date, f.territory_id  -- primary-key order within each date
        {conflict}
        RETURNING m.metric_date
    )
    SELECT metric_date, count(*) AS territories_written FROM written GROUP BY 1
    """


def stats_sql() -> str:
    """Per date in :dates, what daily_sql.write_sql reports for one date (counts, log samples)."""
    return f"""
    WITH per_date AS (
        SELECT w.metric_date,
               sum(w.n_all) AS bookings_in_window,
               sum(w.n_counted) FILTER (WHERE w.covered) AS counted_bookings,
               sum(w.n_cancelled) FILTER (WHERE w.covered) AS cancelled_bookings,
               sum(w.n_all - w.n_known) AS unknown_status_bookings,
               sum(w.n_known) FILTER (WHERE w.sector IS NULL) AS malformed_postcode_bookings,
               sum(w.n_known) FILTER (WHERE w.sector IS NOT NULL AND NOT w.covered)
                   AS no_territory_bookings,
               (array_agg(w.sector ORDER BY w.sector)
                    FILTER (WHERE w.sector IS NOT NULL AND NOT w.covered AND w.n_known > 0))
                    [1:{daily_sql.SAMPLE_SIZE}] AS no_territory_sample
        FROM {WINDOWS_TABLE} w GROUP BY w.metric_date
    ),
    bad AS (
        SELECT x.metric_date,
               (array_agg(DISTINCT k ORDER BY k))[1:{daily_sql.SAMPLE_SIZE}] AS sample
        FROM {WINDOWS_TABLE} x CROSS JOIN LATERAL unnest(ARRAY[x.bad_key_1, x.bad_key_2]) AS k
        WHERE x.bad_key_1 IS NOT NULL
        GROUP BY x.metric_date
    )
    SELECT d.metric_date,
           coalesce(p.bookings_in_window, 0) AS bookings_in_window,
           coalesce(p.counted_bookings, 0) AS counted_bookings,
           coalesce(p.cancelled_bookings, 0) AS cancelled_bookings,
           coalesce(p.unknown_status_bookings, 0) AS unknown_status_bookings,
           coalesce(p.malformed_postcode_bookings, 0) AS malformed_postcode_bookings,
           coalesce(p.no_territory_bookings, 0) AS no_territory_bookings,
           p.no_territory_sample, bad.sample AS malformed_sample
    FROM unnest(CAST(:dates AS date[])) AS d(metric_date)
    LEFT JOIN per_date p ON p.metric_date = d.metric_date
    LEFT JOIN bad ON bad.metric_date = d.metric_date
    ORDER BY d.metric_date
    """


def dates_with_rows_sql(o_filter: str) -> str:
    """Which of :dates already have a row in scope (daily_sql.day_has_rows_sql for each)."""
    return f"""
    SELECT d.metric_date FROM unnest(CAST(:dates AS date[])) AS d(metric_date)
    WHERE EXISTS (
        SELECT 1 FROM organizations o
        CROSS JOIN LATERAL (
            SELECT 1 FROM territory_metrics m
            WHERE m.org_id = o.id AND m.metric_date = d.metric_date LIMIT 1) x
        WHERE true {o_filter})
    """


def unknown_statuses_sql(b_filter: str) -> str:
    """A few unknown statuses of the span for the log (daily_sql.unknown_status_sql on it)."""
    return daily_sql.unknown_status_sql(b_filter)
