"""The postcode-to-sector rule (spec §2, §3), written once, as SQL the jobs run in the database.

sector(site_postcode):
1. strip all white space (the Unicode White_Space characters, plus the zero-width space and the
   byte-order mark that come along with copy and paste) and upper-case the ASCII letters;
2. check the UK postcode shape on what is left (ASCII only):
   outward = 1-2 letters, a digit, an optional digit or letter; inward = a digit and 2 letters;
3. sector = outward code + ' ' + the inward code's digit (the 3rd character from the end).
Anything else has no sector (NULL): a malformed postcode. Only the shape is checked, not whether
the postcode exists.

It comes in two composable halves so the daily job can group bookings before normalising:
`key_sql` is cheap enough to run on every booking (drop spaces and tabs, upper-case ASCII
letters) and never changes the outcome, because step 1 does both anyway; `sector_of_key_sql`
finishes the rule on each distinct key. `sector_sql` is the two together.
"""

from __future__ import annotations

_WHITE_SPACE = [
    *(0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680),
    *range(0x2000, 0x200B),
    *(0x2028, 0x2029, 0x202F, 0x205F, 0x3000),
    *(0x200B, 0xFEFF),  # not White_Space, but invisible and pasted along with postcodes
]
# U&'' literals keep the statement text printable in logs.
_CHARS = "".join(f"\\{cp:04X}" for cp in _WHITE_SPACE)
WHITE_SPACE_SQL = f"U&'{_CHARS}'"
ANY_WHITE_SPACE_SQL = f"U&'[{_CHARS}]'"  # a regular expression: contains white space
# On an upper-cased key with no white space left. ("X?" rather than "{1,2}": PostgreSQL's regular
# expressions match it a third faster, and the job runs it on every distinct spelling.)
POSTCODE_SHAPE = "^[A-Z][A-Z]?[0-9][0-9A-Z]?[0-9][A-Z][A-Z]$"


def key_sql(column: str) -> str:
    """SQL: spaces and tabs (the white space people actually type) removed, ASCII letters
    upper-cased (the "C" collation upper-cases nothing else, the same in every database).
    Spellings with equal keys have equal sectors."""
    return f"upper(replace(replace({column}, ' ', ''), E'\\t', '') COLLATE \"C\")"


def _sector_of_clean(clean: str) -> str:
    return (
        f"CASE WHEN {clean} ~ '{POSTCODE_SHAPE}'"
        f" THEN left({clean}, -3) || ' ' || substr({clean}, length({clean}) - 2, 1) END"
    )


def sector_of_key_sql(key: str) -> str:
    """SQL: the sector of a key_sql() value, NULL when it is not a UK postcode.

    Nearly every key has no white space left, so the shape is checked on it first; only keys
    that fail and still hold white space (tabs, no-break spaces ...) are stripped fully and
    checked again.
    """
    stripped = f"translate({key}, {WHITE_SPACE_SQL}, '')"
    return (
        f"CASE WHEN {key} ~ '{POSTCODE_SHAPE}'"
        f" THEN left({key}, -3) || ' ' || substr({key}, length({key}) - 2, 1)"
        f" WHEN {key} ~ {ANY_WHITE_SPACE_SQL} THEN {_sector_of_clean(stripped)} END"
    )


def sector_sql(column: str) -> str:
    """SQL: the sector of a raw postcode column (the whole rule, for use once per row)."""
    return sector_of_key_sql(f"({key_sql(column)})")
