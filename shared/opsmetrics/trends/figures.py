"""Pure figures the trends report derives from stored rows (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

# The tone whose share the report shows: the one a support lead watches.
NEGATIVE_TONE = "negative"
_CENTS = Decimal("0.01")


def top_topic(distribution: Mapping[str, int]) -> str | None:
    """The most frequent topic; a tie goes to the first name in code-point order."""
    if not distribution:
        return None
    return min(distribution.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def negative_share_pct(sentiment: Mapping[str, int]) -> Decimal | None:
    """100·negative / classifications with a tone, 2 places half up; None when none had a tone."""
    toned = sum(sentiment.values())
    if toned == 0:
        return None
    share = Decimal(100 * sentiment.get(NEGATIVE_TONE, 0)) / Decimal(toned)
    return share.quantize(_CENTS, rounding=ROUND_HALF_UP)


def ranked(distribution: Mapping[str, int]) -> dict[str, int]:
    """The same counts, largest first, ties in code-point order (jsonb keeps its own key order,
    which reads as random in a report)."""
    return dict(sorted(distribution.items(), key=lambda kv: (-kv[1], kv[0])))


def merge_counts(distributions: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Key-wise sum, ranked."""
    total: dict[str, int] = {}
    for dist in distributions:
        for key, count in dist.items():
            total[key] = total.get(key, 0) + int(count)
    return ranked(total)
