"""The SQL of daily-territory-metrics (daily.py runs it): the window's bookings grouped by
(organization, postcode key) with packed status counts, summed per (organization, sector), and
the one INSERT ... SELECT that writes a date's rows. The pass over many dates (batch_sql.py)
reuses the status classes, the packing and the INSERT.

Module globals are read when a statement is built (tests shrink PACK_BITS to force the exact
recount).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Literal

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
SUMS_TABLE = "territory_day_sums"  # temporary: the day's per_sector_sql rows

# insert: no row of the date exists in scope (plain INSERT); upsert: a rerun (counts and rates
# replaced, weekly counters kept); missing: only territories without a row (the weekly catch-up).
WriteMode = Literal["insert", "upsert", "missing"]


def window(day: date) -> tuple[date, date]:
    """First and last shift_date counted for metric date `day` (inclusive)."""
    return day - timedelta(days=WINDOW_DAYS - 1), day


def in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def field_max() -> int:
    """The largest count a packed field holds (PACK_BITS read when called)."""
    return (1 << PACK_BITS) - 1


def packed_sum_sql() -> str:
    """One sum over a group of bookings `b` that counts every status class in its bit field."""
    field_of = {s: i for i, (_, statuses) in enumerate(STATUS_CLASSES) for s in statuses}
    whens = " ".join(
        f"WHEN '{s}' THEN {1 << (PACK_BITS * field_of[s])}::bigint" for s in CASE_ORDER
    )
    return f"sum(CASE b.status {whens} ELSE 0::bigint END)::bigint"


def unpacked_sql(packed: str) -> str:
    """n_<class> for each status class, read from the packed sum `packed`."""
    return ", ".join(
        f"(({packed} >> {PACK_BITS * i}) & {field_max()})::int AS n_{name}"
        for i, (name, _) in enumerate(STATUS_CLASSES)
    )


def class_counts_sql() -> str:
    """n_<class> for each status class, one FILTER each over bookings `b`: exact always."""
    return ", ".join(
        f"count(*) FILTER (WHERE b.status IN {in_list(statuses)}) AS n_{name}"
        for name, statuses in STATUS_CLASSES
    )


def per_key_sql(org_filter: str, *, packed: bool) -> str:
    """The window's bookings grouped by (organization, postcode key): n_all and n_<class> for
    each status class. packed: the class counts come from one sum of bit fields (PACK_BITS),
    exact while the group has at most field_max() bookings; otherwise one FILTER per class,
    exact always."""
    if packed:
        return f"""
            SELECT k.org_id, k.pc_key, k.n_all, {unpacked_sql("k.packed")}
            FROM (
                SELECT b.org_id, {key_sql("b.site_postcode")} AS pc_key, count(*) AS n_all,
                       -- too big a group: no packed counts (the caller counts again), and no
                       -- bigint overflow on the way
                       CASE WHEN count(*) <= {field_max()}
                            THEN {packed_sum_sql()}
                       END AS packed
                FROM bookings b
                WHERE b.shift_date BETWEEN :first_day AND :last_day {org_filter}
                GROUP BY 1, 2
            ) k
        """
    return f"""
        SELECT b.org_id, {key_sql("b.site_postcode")} AS pc_key, count(*) AS n_all,
               {class_counts_sql()}
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
RERUN_UPDATE = """DO UPDATE SET
            org_id = EXCLUDED.org_id,
            postcode_sector = EXCLUDED.postcode_sector,
            total_bookings = EXCLUDED.total_bookings,
            confirmed_bookings = EXCLUDED.confirmed_bookings,
            rejected_bookings = EXCLUDED.rejected_bookings,
            rejection_rate = EXCLUDED.rejection_rate,
            fulfillment_rate = EXCLUDED.fulfillment_rate,
            primary_medic_utilization = EXCLUDED.primary_medic_utilization,
            computed_at = EXCLUDED.computed_at"""


def insert_sql(metric_date: str) -> str:
    """INSERT of territory_metrics rows from `figures f` (territory_id, org_id, postcode_sector,
    total, confirmed, rejected): the counts, the rates and utilization (rules_sql), computed_at.
    The weekly counters are left to their defaults: only the weekly job sets them."""
    return f"""INSERT INTO territory_metrics AS m (
            territory_id, org_id, postcode_sector, metric_date, total_bookings,
            confirmed_bookings, rejected_bookings, rejection_rate, fulfillment_rate,
            primary_medic_utilization, computed_at)
        SELECT f.territory_id, f.org_id, f.postcode_sector, {metric_date}, f.total, f.confirmed,
               f.rejected, {rate_sql("f.rejected", "f.total")},
               {rate_sql("f.confirmed", "f.total")}, {utilization_sql("f.confirmed")},
               now()"""


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
        conflict = f"ON CONFLICT (territory_id, metric_date) {RERUN_UPDATE}"
    elif mode == "missing":
        t_filter += (
            " AND NOT EXISTS (SELECT 1 FROM territory_metrics x"
            " WHERE x.territory_id = t.id AND x.metric_date = :day)"
        )
        conflict = "ON CONFLICT (territory_id, metric_date) DO NOTHING"
    overflow = (
        f"coalesce((SELECT max(biggest_key) FROM per_sector), 0) > {field_max()}"
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
        {insert_sql(":day")}
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
              AND b.status NOT IN {in_list(KNOWN_STATUSES)}
            LIMIT {UNKNOWN_SCAN_LIMIT}) x
        ORDER BY 1 LIMIT {SAMPLE_SIZE}
    """
