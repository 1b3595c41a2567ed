"""Staffing data: medics, territories and bookings, generated inside PostgreSQL.

Works on the session's temporary tables `seed_orgs` and `seed_catalogue` (see loader.py) and adds
`seed_territories` (every territory with its drawn profile) and `seed_uncovered` (sectors of an
organization's regions that it does not cover). Bookings are written one shift date per
statement, oldest first, so the table is laid out in date order as a live one would be.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from opsmetrics.seed.geography import INWARD_LETTERS
from opsmetrics.seed.names import FIRST_NAMES, LAST_NAMES
from opsmetrics.seed.profiles import QUIET_VOLUME
from opsmetrics.seed.scales import DataDay, Scale
from opsmetrics.seed.sqlrand import SqlRand, literal

# Territories with a primary / a secondary medic: most are staffed, enough are not to exercise
# the "Assign primary medic" and "Assign secondary medic" recommendations.
P_PRIMARY = 0.85
P_SECONDARY = 0.55
# Medics who have left but are still on the books.
P_INACTIVE_MEDIC = 0.08

# Per booking, the bad input spec §5 expects jobs to count and leave out.
P_UNKNOWN_STATUS = 0.003  # a status outside the five known ones
P_INVALID_POSTCODE = 0.003  # not a postcode at all
P_STRAY_POSTCODE = 0.008  # a valid postcode in a sector the organization does not cover
P_CANCELLED = 0.05

UNKNOWN_STATUSES = ("no_show", "CONFIRMED ", "unknown", "Confirmed", "canceled", " pending")
INVALID_POSTCODES = ("'N/A'", "'12345'", "t.outward", "'TBC'", "''", "lower(t.sector)")

# How people type a postcode: o = outward code, i = inward code (weights in per cent).
SPELLINGS = (
    ("o || ' ' || i", 50),
    ("lower(o || ' ' || i)", 8),
    ("o || i", 10),
    ("lower(o || i)", 10),
    ("' ' || o || ' ' || i || ' '", 6),
    ("o || '  ' || i", 5),
    ("o || ' ' || i || ' '", 5),
    ("lower(o) || ' ' || i", 3),
    ("' ' || lower(o || i)", 2),
    ("o || ' ' || i || E'\\t'", 1),  # pasted from a spreadsheet
)

# (pending share, confirmed share of what is neither rejected, cancelled nor pending):
# old shifts are completed, the last two days partly closed out, future ones not yet.
_PAST = (0.015, 0.08)
_RECENT = (0.04, 0.6)
_FUTURE = (0.4, 1.0)
RECENT_DAYS = 2  # the anchor and the day before still have open (confirmed) shifts


def build_territories(conn: Connection, scale: Scale, rand: SqlRand) -> None:
    """Pick each staffing organization's sectors and draw every territory's profile."""
    # Sectors are ranked by a seeded hash; an organization takes the best-ranked ones spread in
    # proportion over its regions, so a national one reaches every region and organizations
    # with overlapping regions share sectors (territories are unique per (org, sector) only).
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE seed_eligible ON COMMIT DROP AS
            WITH ranked AS (
                SELECT c.*, {rand.hash("sector-rank", "c.cat_no")} AS rnk FROM seed_catalogue c
            ), spread AS (
                SELECT r.*,
                       (row_number() OVER (PARTITION BY r.region ORDER BY r.rnk, r.cat_no) - 0.5)
                       / count(*) OVER (PARTITION BY r.region) AS spread
                FROM ranked r
            )
            SELECT o.org_no, o.id AS org_id, o.territories AS wanted, o.n_medics, s.cat_no,
                   s.sector, s.outward, s.digit, s.region,
                   row_number() OVER (PARTITION BY o.org_no ORDER BY s.spread, s.rnk, s.cat_no)
                       AS pick
            FROM seed_orgs o
            JOIN spread s ON o.regions IS NULL OR s.region = ANY (o.regions)
            WHERE o.staffing_no IS NOT NULL
            """
        )
    )
    conn.execute(
        text(
            "CREATE TEMP TABLE seed_uncovered ON COMMIT DROP AS"
            " SELECT org_no, (pick - wanted)::int AS u_no, outward, digit"
            " FROM seed_eligible WHERE pick > wanted"
        )
    )
    conn.execute(text("CREATE INDEX ON seed_uncovered (org_no, u_no)"))
    conn.execute(text("ANALYZE seed_uncovered"))
    bounds = _cumulative([p.share for p in scale.profiles])
    profiles = ", ".join(
        f"({literal(p.code)}, {lo!r}, {hi!r}, {p.volume[0]}, {p.volume[1]},"
        f" {scale.busy_factor if p.scaled else 1.0}, {p.rejection[0]}, {p.rejection[1]},"
        f" {p.active_weeks[0]}, {p.active_weeks[1]})"
        for p, lo, hi in zip(scale.profiles, bounds, [*bounds[1:], 2.0], strict=True)
    )
    h1, h2 = "r.h1", "r.h2"
    # a different medic of the same organization: offset 1..n-1 from the primary
    secondary = rand.uuid(
        "medic", "p.org_no", "1 + mod(r.m1 + 1 + mod(r.m2, p.n_medics - 1), p.n_medics)"
    )
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE seed_territories ON COMMIT DROP AS
            WITH picked AS (
                SELECT row_number() OVER (ORDER BY e.org_no, e.pick)::int AS t_no, e.*
                FROM seed_eligible e WHERE e.pick <= e.wanted
            ), uncovered AS (
                SELECT org_no, count(*) AS sectors FROM seed_uncovered GROUP BY org_no
            ), profiles (code, cum_lo, cum_hi, vol_lo, vol_hi, factor, rej_lo, rej_hi,
                         active_from, active_to) AS (VALUES {profiles})
            SELECT p.t_no, p.org_no, p.org_id, p.cat_no, p.sector, p.outward, p.digit, p.region,
                   {rand.uuid("territory", "p.org_no", "p.cat_no")} AS id,
                   pr.code AS profile,
                   {rand.between(rand.draw(h1, 1), "pr.vol_lo", "pr.vol_hi")} * pr.factor
                       AS volume,
                   {rand.between(rand.draw(h1, 2), QUIET_VOLUME[0], QUIET_VOLUME[1])}
                       AS quiet_volume,
                   pr.active_from, pr.active_to,
                   {rand.between(rand.draw(h2, 0), "pr.rej_lo", "pr.rej_hi")} AS rejection,
                   -- busier territories serve more sites (hospitals, venues, care homes)
                   least(15, 1 + floor({rand.draw(h2, 1)} * 4) + floor(
                       {rand.between(rand.draw(h1, 1), "pr.vol_lo", "pr.vol_hi")}
                       * pr.factor / 25))::int AS n_sites,
                   CASE WHEN {rand.draw("r.h3", 0)} < {P_PRIMARY}
                        THEN {rand.uuid("medic", "p.org_no", "1 + mod(r.m1, p.n_medics)")} END
                       AS primary_medic_id,
                   CASE WHEN {rand.draw("r.h3", 1)} < {P_SECONDARY}
                        THEN {secondary} END
                       AS secondary_medic_id,
                   {rand.uuid("medic", "p.org_no", "1 + mod(r.m3, p.n_medics)")} AS pool_medic_id,
                   u.outward AS stray_outward, u.digit AS stray_digit
            FROM picked p
            CROSS JOIN LATERAL (
                SELECT {rand.hash("territory", "p.t_no")} AS h1,
                       {rand.hash("territory-2", "p.t_no")} AS h2,
                       {rand.hash("territory-3", "p.t_no")} AS h3,
                       {rand.hash("medic-1", "p.t_no")} & 2147483647 AS m1,
                       {rand.hash("medic-2", "p.t_no")} & 2147483647 AS m2,
                       {rand.hash("medic-3", "p.t_no")} & 2147483647 AS m3
                OFFSET 0
            ) r
            JOIN profiles pr ON {rand.draw(h1, 0)} >= pr.cum_lo AND {rand.draw(h1, 0)} < pr.cum_hi
            LEFT JOIN uncovered n ON n.org_no = p.org_no
            LEFT JOIN seed_uncovered u ON u.org_no = p.org_no
                AND u.u_no = 1 + {rand.below(rand.hash("stray", "p.t_no"), "n.sectors")}
            """
        )
    )
    conn.execute(text("ANALYZE seed_territories"))


def _cumulative(shares: list[float]) -> list[float]:
    """Lower bounds of each share's interval; the last interval runs past 1 (float sums)."""
    out, total = [], 0.0
    for s in shares:
        out.append(total)
        total += s
    return out


def insert_medics(conn: Connection, rand: SqlRand) -> int:
    h = rand.hash("medic-name", "o.org_no", "m")
    result = conn.execute(
        text(
            f"""
            INSERT INTO medics (id, org_id, full_name, active)
            SELECT {rand.uuid("medic", "o.org_no", "m")}, o.id,
                   (CAST(:first AS text[]))[1 + {rand.below(h, len(FIRST_NAMES))}]
                   || ' ' ||
                   (CAST(:last AS text[]))[1 + {rand.below(f"{h} >> 32", len(LAST_NAMES))}],
                   {rand.draw(rand.hash("medic-active", "o.org_no", "m"), 0)}
                       >= {P_INACTIVE_MEDIC}
            FROM seed_orgs o CROSS JOIN generate_series(1, o.n_medics) AS m
            WHERE o.staffing_no IS NOT NULL
            ORDER BY o.org_no, m
            """
        ),
        {"first": list(FIRST_NAMES), "last": list(LAST_NAMES)},
    )
    return result.rowcount


def insert_territories(conn: Connection) -> int:
    result = conn.execute(
        text(
            """
            INSERT INTO territories
                (id, org_id, postcode_sector, region, primary_medic_id, secondary_medic_id)
            SELECT id, org_id, sector, region, primary_medic_id, secondary_medic_id
            FROM seed_territories ORDER BY t_no
            """
        )
    )
    return result.rowcount


def insert_bookings(
    conn: Connection, rand: SqlRand, anchor: date, day: DataDay, day_no: int
) -> int:
    """All bookings with shift_date = day.day, in one INSERT ... SELECT."""
    return conn.execute(text(bookings_sql(rand, anchor, day, day_no))).rowcount


def bookings_sql(rand: SqlRand, anchor: date, day: DataDay, day_no: int) -> str:
    ahead = (day.day - anchor).days
    pending, confirmed = _FUTURE if ahead > 0 else _RECENT if ahead > -RECENT_DAYS else _PAST
    shift = f"DATE '{day.day.isoformat()}'"
    weekly = (
        f"CASE WHEN {day.week} BETWEEN t.active_from AND t.active_to"
        " THEN t.volume ELSE t.quiet_volume END"
    )
    # Expected count = weekly / 7 x the day's factor; floor(x + U) rounds without bias.
    cell = rand.hash("cell", "t.t_no", str(day_no))
    count = (
        f"floor({weekly} / 7.0 * {day.factor!r} * (0.6 + 0.8 * {rand.draw(cell, 0)})"
        f" + {rand.draw(cell, 1)})::int"
    )
    base = f"(t.rejection + {P_CANCELLED} + {pending})"
    status = f"""CASE
        WHEN {rand.draw("r.h1", 1)} < {P_UNKNOWN_STATUS}
            THEN {rand.pick(rand.draw("r.h1", 0), [(literal(s), 1) for s in UNKNOWN_STATUSES])}
        WHEN {rand.draw("r.h1", 0)} < t.rejection THEN 'rejected'
        WHEN {rand.draw("r.h1", 0)} < t.rejection + {P_CANCELLED} THEN 'cancelled'
        WHEN {rand.draw("r.h1", 0)} < {base} THEN 'pending'
        WHEN {rand.draw("r.h1", 0)} < {base} + {confirmed} * (1 - {base}) THEN 'confirmed'
        ELSE 'completed' END"""
    bad = rand.draw("r.h1", 2)
    stray = f"({bad} >= {P_INVALID_POSTCODE} AND {bad} < {P_INVALID_POSTCODE + P_STRAY_POSTCODE}"
    stray += " AND t.stray_outward IS NOT NULL)"
    site = rand.hash("site", "t.t_no", f"floor({rand.draw('r.h2', 0)} * t.n_sites)")
    letters = _letters(f"(CASE WHEN s.stray THEN r.h3 ELSE {site} END & 2147483647)")
    spelled = rand.pick(rand.draw("r.h2", 1), [(sql, w) for sql, w in SPELLINGS])
    invalid = rand.pick(rand.draw("r.h2", 1), [(sql, 1) for sql in INVALID_POSTCODES])
    lead = f"floor(power({rand.draw('r.h3', 0)}, 2) * 28)::int"
    created = (
        f"(least({shift} - {lead}, DATE '{anchor.isoformat()}')::timestamp"
        f" + (25200 + floor({rand.draw('r.h3', 1)} * 46800))::int * interval '1 second')"
        " AT TIME ZONE 'UTC'"
    )
    return f"""
        INSERT INTO bookings (id, org_id, site_postcode, shift_date, status, medic_id, created_at)
        SELECT b.id, b.org_id, b.site_postcode, {shift}, b.status,
               CASE WHEN b.status IN ('confirmed', 'completed') THEN
                   CASE WHEN b.u_medic < 0.7 THEN coalesce(b.primary_medic_id, b.pool_medic_id)
                        WHEN b.u_medic < 0.85 THEN coalesce(b.secondary_medic_id, b.pool_medic_id)
                        ELSE b.pool_medic_id END
               END,
               b.created_at
        FROM (
            SELECT {rand.uuid("booking", "t.t_no", str(day_no), "k")} AS id,
                   t.org_id, t.primary_medic_id, t.secondary_medic_id, t.pool_medic_id,
                   {rand.draw("r.h2", 2)} AS u_medic,
                   {status} AS status,
                   CASE WHEN {bad} < {P_INVALID_POSTCODE} THEN {invalid} ELSE {spelled} END
                       AS site_postcode,
                   {created} AS created_at
            FROM seed_territories t
            CROSS JOIN LATERAL generate_series(1, {count}) AS k
            CROSS JOIN LATERAL (
                SELECT {rand.hash("booking", "t.t_no", str(day_no), "k")} AS h1,
                       {rand.hash("booking-2", "t.t_no", str(day_no), "k")} AS h2,
                       {rand.hash("booking-3", "t.t_no", str(day_no), "k")} AS h3
                OFFSET 0
            ) r
            CROSS JOIN LATERAL (SELECT {stray} AS stray OFFSET 0) s
            CROSS JOIN LATERAL (
                SELECT CASE WHEN s.stray THEN t.stray_outward ELSE t.outward END AS o,
                       CASE WHEN s.stray THEN t.stray_digit ELSE t.digit END || {letters} AS i
                OFFSET 0
            ) pc
        ) b
    """


def _letters(hash_expr: str) -> str:
    """The two letters of an inward code from a non-negative hash."""
    n = len(INWARD_LETTERS)
    return (
        f"substr('{INWARD_LETTERS}', 1 + mod({hash_expr}, {n})::int, 1)"
        f" || substr('{INWARD_LETTERS}', 1 + mod(({hash_expr}) / {n}, {n})::int, 1)"
    )
