"""The channel-hotspot rule of spec §3: its constants, the pure functions, and their SQL twins
(which trends/sql.py builds into its aggregation, binding the constants as parameters).

The one place to change the rule; tests/trends/test_rule_in_sql.py runs the job on a grid of
channels around every boundary and checks the rows, the job's count and the report's summary
against the pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

# Below 10 messages a channel's ratio is noise (3 complaints in 5 messages is not a pattern).
MIN_MESSAGES = 10
# A channel is a hotspot when more than 30% of its messages are trouble. Kept as the fraction
# 3/10 and compared in integers (10·flagged > 3·total) so no float error can move the boundary.
RATIO_NUMERATOR = 3
RATIO_DENOMINATOR = 10
# The topics that count as trouble, matched exactly as the classifier stores them.
FLAGGED_TOPICS = ("complaint", "escalation")


class Hotspot(TypedDict):
    channelId: str
    riskScore: int
    messageCount: int


@dataclass(frozen=True)
class ChannelCounts:
    channel_id: str
    flagged: int  # complaint + escalation classifications
    total: int  # all classifications of the channel that day


def _check(flagged: int, total: int) -> None:
    if total < 0 or flagged < 0 or flagged > total:
        raise ValueError(f"need 0 <= flagged <= total, got flagged={flagged}, total={total}")


def risk_score(flagged: int, total: int) -> int:
    """round(100·flagged/total) half up, in integers: floor((200·flagged + total) / (2·total))."""
    _check(flagged, total)
    if total == 0:
        raise ValueError("a channel without messages has no risk score")
    return (200 * flagged + total) // (2 * total)


def is_hotspot(flagged: int, total: int) -> bool:
    """At least MIN_MESSAGES messages and a trouble ratio strictly above 3/10."""
    _check(flagged, total)
    return total >= MIN_MESSAGES and RATIO_DENOMINATOR * flagged > RATIO_NUMERATOR * total


def hotspots(channels: Iterable[ChannelCounts]) -> list[Hotspot]:
    """The hotspots, highest risk first, then most messages, then channel id (code-point order)."""
    found: list[Hotspot] = [
        {
            "channelId": c.channel_id,
            "riskScore": risk_score(c.flagged, c.total),
            "messageCount": c.total,
        }
        for c in channels
        if is_hotspot(c.flagged, c.total)
    ]
    found.sort(key=lambda h: (-h["riskScore"], -h["messageCount"], h["channelId"]))
    return found


# --- the same rule in SQL, over a channel's message count and flagged count -------------------


def flagged_sql(topic: str) -> str:
    """Whether a classification's topic is trouble (FLAGGED_TOPICS, bound by HOTSPOT_PARAMS)."""
    return f"{topic} IN ({', '.join(f':{name}' for name in _FLAGGED)})"


def is_hotspot_sql(flagged: str, total: str) -> str:
    """is_hotspot, with the constants bound by HOTSPOT_PARAMS."""
    return f"{total} >= :min_messages AND :ratio_den * {flagged} > :ratio_num * {total}"


def risk_score_sql(flagged: str, total: str) -> str:
    """risk_score in integer SQL (integer division truncates: the floor for these values)."""
    return f"((200 * {flagged} + {total}) / (2 * {total}))"


_FLAGGED = {f"flagged_{i}": topic for i, topic in enumerate(FLAGGED_TOPICS)}
# The parameters the SQL twins above need bound.
HOTSPOT_PARAMS: dict[str, Any] = {
    **_FLAGGED,
    "min_messages": MIN_MESSAGES,
    "ratio_num": RATIO_NUMERATOR,
    "ratio_den": RATIO_DENOMINATOR,
}
