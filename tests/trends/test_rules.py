"""The pure rules: hotspot rule and the report's derived figures (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsmetrics.trends import figures, hotspots
from opsmetrics.trends.hotspots import ChannelCounts


@pytest.mark.parametrize(
    ("flagged", "total", "score"),
    [
        (61, 200, 31),  # 30.5 -> 31: half up, where banker's rounding would give 30
        (59, 200, 30),  # 29.5 -> 30
        (1, 8, 13),  # 12.5 -> 13
        (5, 13, 38),  # 38.46 -> 38
        (2, 3, 67),  # 66.67 -> 67
        (1, 3, 33),  # 33.33 -> 33
        (0, 10, 0),
        (10, 10, 100),
    ],
)
def test_risk_score_rounds_half_up(flagged: int, total: int, score: int) -> None:
    assert hotspots.risk_score(flagged, total) == score


@pytest.mark.parametrize(
    ("flagged", "total", "hot"),
    [
        (4, 10, True),  # 40% of exactly the minimum 10 messages
        (9, 9, False),  # 100% but below 10 messages
        (3, 10, False),  # exactly 30%: not strictly above
        (6, 20, False),  # exactly 30% again
        (61, 200, True),  # 30.5%
        (7, 20, True),  # 35%
        (0, 1000, False),
    ],
)
def test_is_hotspot_at_the_boundaries(flagged: int, total: int, hot: bool) -> None:
    assert hotspots.is_hotspot(flagged, total) is hot


@pytest.mark.parametrize(("flagged", "total"), [(-1, 10), (11, 10), (0, -1)])
def test_impossible_counts_are_errors(flagged: int, total: int) -> None:
    with pytest.raises(ValueError, match="flagged"):
        hotspots.is_hotspot(flagged, total)


def test_a_channel_without_messages_has_no_risk_score() -> None:
    with pytest.raises(ValueError, match="without messages"):
        hotspots.risk_score(0, 0)


def test_hotspots_are_filtered_and_ordered_by_risk_then_messages_then_id() -> None:
    found = hotspots.hotspots(
        [
            ChannelCounts("quiet", 9, 9),  # too few messages
            ChannelCounts("edge", 3, 10),  # exactly 30%
            ChannelCounts("b", 5, 10),  # 50, 10
            ChannelCounts("A", 5, 10),  # 50, 10: 'A' < 'b' in code points
            ChannelCounts("big", 10, 20),  # 50, 20
            ChannelCounts("top", 10, 10),  # 100
        ]
    )
    assert [(h["channelId"], h["riskScore"], h["messageCount"]) for h in found] == [
        ("top", 100, 10),
        ("big", 50, 20),
        ("A", 50, 10),
        ("b", 50, 10),
    ]


@given(
    st.integers(min_value=1, max_value=10**6).flatmap(
        lambda t: st.tuples(st.integers(0, t), st.just(t))
    )
)
def test_risk_score_equals_exact_half_up_rounding(counts: tuple[int, int]) -> None:
    flagged, total = counts
    exact = Decimal(100 * flagged) / Decimal(total)
    assert hotspots.risk_score(flagged, total) == int(exact.quantize(Decimal(1), "ROUND_HALF_UP"))
    assert hotspots.is_hotspot(flagged, total) == (total >= 10 and exact > 30)


def test_top_topic_takes_the_largest_count_and_breaks_ties_by_name() -> None:
    assert figures.top_topic({}) is None
    assert figures.top_topic({"billing": 3, "praise": 5}) == "praise"
    assert figures.top_topic({"praise": 5, "billing": 5, "Zebra": 5}) == "Zebra"  # 'Z' < 'b'


def test_negative_share_is_a_percentage_of_toned_rows_rounded_half_up() -> None:
    assert figures.negative_share_pct({}) is None
    assert figures.negative_share_pct({"positive": 0}) is None
    # 1 of 32 = 3.125% -> 3.13 (half up; half-even would give 3.12)
    assert figures.negative_share_pct({"negative": 1, "neutral": 31}) == Decimal("3.13")
    # 121 of 321 = 37.694...% -> 37.69
    assert figures.negative_share_pct({"negative": 121, "neutral": 200}) == Decimal("37.69")
    assert figures.negative_share_pct({"positive": 4}) == Decimal("0.00")


def test_merge_counts_sums_key_by_key_and_ranks_largest_first() -> None:
    merged = figures.merge_counts([{"b": 1, "a": 2}, {}, {"b": 3, "c": 1, "C": 1}])
    assert merged == {"a": 2, "b": 4, "c": 1, "C": 1}  # b 1+3, a 2, c 1, C 1
    assert list(merged) == ["b", "a", "C", "c"]  # 4, 2, then the tie 1/1: 'C' < 'c'
    assert list(figures.ranked({"x": 1, "y": 5})) == ["y", "x"]
