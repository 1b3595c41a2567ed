"""Helpers for the seed tests: table checksums, counts and the tests' own postcode rule."""

from __future__ import annotations

from sqlalchemy import Connection, text

from opsmetrics.seed import SOURCE_TABLES

# spec §3, written independently of any job: strip all white space, upper-case, check the
# shape, sector = outward + ' ' + first character of the inward code.
BOOKING_SECTOR = r"""
    CASE WHEN upper(regexp_replace(b.site_postcode, '\s', '', 'g'))
              ~ '^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$'
         THEN left(upper(regexp_replace(b.site_postcode, '\s', '', 'g')),
                   length(regexp_replace(b.site_postcode, '\s', '', 'g')) - 3)
              || ' ' || substr(upper(regexp_replace(b.site_postcode, '\s', '', 'g')),
                               length(regexp_replace(b.site_postcode, '\s', '', 'g')) - 2, 1)
    END
"""


def checksums(conn: Connection) -> dict[str, str]:
    """md5 of every row of every source table, in id order."""
    out = {}
    for table in SOURCE_TABLES:
        out[table] = conn.execute(
            text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t")
        ).scalar_one()
    return out


def counts(conn: Connection) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in SOURCE_TABLES}
