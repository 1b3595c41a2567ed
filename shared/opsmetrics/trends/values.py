"""Which classification values count (spec §8), as pure functions and their SQL twins.

- confidence: a finite number in [0, 1]; anything else (NaN, ±Infinity, -1, 5, 1e308) is a bad
  row: left out of `avg_confidence` and counted as `bad_confidence`. A NULL confidence is simply
  absent (the specification's mean is of the non-null values), not bad;
- channel: an id that is empty or only white space is no channel (never a hotspot);
- tone: a sentiment counts in sentiment_distribution when it is a JSON object whose `tone` is a
  string with something other than white space in it; anything else is malformed sentiment.

tests/trends check that the SQL and these functions agree on every awkward value.
"""

from __future__ import annotations

import math
import re

LOWEST_CONFIDENCE = 0.0
HIGHEST_CONFIDENCE = 1.0


def usable_confidence(value: float | None) -> bool:
    return (
        value is not None
        and math.isfinite(value)
        and LOWEST_CONFIDENCE <= value <= HIGHEST_CONFIDENCE
    )


def usable_confidence_sql(column: str) -> str:
    """True for a usable value, false for a bad one, NULL for NULL. In PostgreSQL NaN sorts above
    every number and ±Infinity lies outside the bounds, so the two comparisons refuse them too."""
    return f"({column} >= {LOWEST_CONFIDENCE} AND {column} <= {HIGHEST_CONFIDENCE})"


def channel(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value


def channel_sql(column: str) -> str:
    # [[:space:]] as Python's str.strip() sees white space (tabs, newlines, spaces).
    return f"CASE WHEN {column} ~ '^[[:space:]]*$' THEN NULL ELSE {column} END"


# What the SQL's `\S` (usable_tone_sql) counts as white space on a C.UTF-8 server: the ASCII
# spaces only. str.strip() would also drop U+00A0, U+0085 and U+001C-U+001F, which the SQL counts
# as a tone.
_NOT_BLANK = re.compile(r"[^ \t\n\r\f\v]")


def tone(sentiment: object) -> str | None:
    """The tone a sentiment (as JSON decodes it) counts under; None: malformed sentiment."""
    found = sentiment.get("tone") if isinstance(sentiment, dict) else None
    return found if isinstance(found, str) and _NOT_BLANK.search(found) else None


def tone_text_sql(col: str) -> str:
    """The sentiment's tone when it is a JSON string, else NULL. Total: `->` and `->>` give NULL
    (never an error) on SQL NULL, JSON scalars, arrays and objects without the key."""
    return f"CASE WHEN jsonb_typeof({col} -> 'tone') = 'string' THEN {col} ->> 'tone' END"


def usable_tone_sql(tone: str) -> str:
    """A tone string names a tone: not NULL and not empty or only white space."""
    return f"COALESCE({tone} ~ '\\S', false)"


def tone_is_valid_sql(col: str) -> str:
    """TRUE when the row's sentiment counts in sentiment_distribution (tone() is not None)."""
    return usable_tone_sql(tone_text_sql(col))
