"""The staffing rules (spec §4) as pure functions: every threshold on both sides."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from opsmetrics.territory import alerts
from opsmetrics.territory.gaps import (
    ASSIGN_PRIMARY,
    ASSIGN_SECONDARY,
    HIRE_ADDITIONAL,
    coverage_gaps,
    gap_of,
    low_volume_note,
    recommended_action,
)
from opsmetrics.territory.rules import TerritoryFigures, rate, utilization
from opsmetrics.territory.summary import (
    TerritoryTotals,
    summarize,
    summarize_totals,
    totals_of,
)
from opsmetrics.territory.triggers import (
    count_by_severity,
    evaluate,
    group_by_region,
    plain_number,
    triggers_for,
)

ORG = uuid.UUID(int=1)


def fig(
    sector: str = "SW1A 1",
    region: str = "London",
    *,
    total: int = 0,
    confirmed: int = 0,
    rejected: int = 0,
    util: str | None = None,
    fulfillment: str | None = None,
    rejection: str | None = None,
    hiring_weeks: int = 0,
    gap_weeks: int = 0,
    primary: bool = True,
    secondary: bool = True,
    org: uuid.UUID = ORG,
) -> TerritoryFigures:
    """Figures with rates given directly (so boundaries like 70.01 can be tested)."""
    return TerritoryFigures(
        territory_id=uuid.uuid5(ORG, f"{org}/{sector}"),
        org_id=org,
        postcode_sector=sector,
        region=region,
        total_bookings=total,
        confirmed_bookings=confirmed,
        rejected_bookings=rejected,
        rejection_rate=Decimal(rejection) if rejection is not None else None,
        fulfillment_rate=Decimal(fulfillment) if fulfillment is not None else None,
        utilization=Decimal(util) if util is not None else Decimal(0),
        hiring_trigger_weeks=hiring_weeks,
        coverage_gap_weeks=gap_weeks,
        has_primary_medic=primary,
        has_secondary_medic=secondary,
    )


def kinds(t: TerritoryFigures) -> list[tuple[str, str]]:
    return [(x.trigger_type, x.severity) for x in triggers_for(t)]


# --- utilization and rates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirmed", "days", "expected"),
    [
        (0, 5, "0.00"),
        (3, 5, "60.00"),  # 300/5
        (4, 5, "80.00"),  # 400/5
        (5, 5, "100.00"),  # a full week
        (6, 5, "100.00"),  # 600/5 = 120, capped
        (31, 5, "100.00"),  # 620, capped
        (1, 3, "33.33"),  # 33.333..
        (2, 3, "66.67"),  # 66.666.. rounds up
        (1, 8, "12.50"),
        (1, 1, "100.00"),
    ],
)
def test_utilization(confirmed: int, days: int, expected: str) -> None:
    assert utilization(confirmed, days) == Decimal(expected)


def test_utilization_defaults_to_five_working_days() -> None:
    assert utilization(2) == Decimal("40.00")  # 200/5


@pytest.mark.parametrize(("confirmed", "days"), [(-1, 5), (3, 0), (3, -5)])
def test_utilization_rejects_negative_counts_and_non_positive_days(
    confirmed: int, days: int
) -> None:
    with pytest.raises(ValueError):
        utilization(confirmed, days)


def test_utilization_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        utilization(True)
    with pytest.raises(TypeError):
        utilization(3, 2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("part", "total", "expected"),
    [
        (1, 32, "3.13"),  # 3.125: half up (half-even and float round() give 3.12)
        (31, 32, "96.88"),  # 96.875
        (1, 8, "12.50"),
        (2, 6, "33.33"),
        (4, 6, "66.67"),
        (1, 3, "33.33"),
        (0, 7, "0.00"),
        (7, 7, "100.00"),
        (1, 1600, "0.06"),  # 0.0625 -> 0.06 (the digit after is 2)
        (1, 800, "0.13"),  # 0.125 -> 0.13
    ],
)
def test_rate_rounds_half_up(part: int, total: int, expected: str) -> None:
    assert rate(part, total) == Decimal(expected)


def test_rate_is_none_without_bookings_and_refuses_impossible_counts() -> None:
    assert rate(0, 0) is None
    with pytest.raises(ValueError):
        rate(3, 2)
    with pytest.raises(ValueError):
        rate(-1, 2)


def test_plain_number_drops_trailing_zeros_only() -> None:
    assert [plain_number(Decimal(v)) for v in ("85.00", "85.50", "85.25", "100.00", "0.00")] == [
        "85",
        "85.5",
        "85.25",
        "100",
        "0",
    ]


# --- hiring triggers: high utilization ---------------------------------------------------------


@pytest.mark.parametrize(
    ("util", "weeks", "expected"),
    [
        ("70.00", 0, []),  # not above 70
        ("70.01", 0, [("high_utilization", "warning")]),
        ("80.00", 3, [("high_utilization", "warning")]),  # 80 is not above 80
        ("80.01", 2, [("high_utilization", "warning")]),  # only 2 weeks
        ("80.01", 3, [("high_utilization", "critical")]),
        ("100.00", 2, [("high_utilization", "warning")]),
        ("100.00", 3, [("high_utilization", "critical")]),
        ("100.00", 7, [("high_utilization", "critical")]),
    ],
)
def test_high_utilization_boundaries(util: str, weeks: int, expected: list[object]) -> None:
    assert kinds(fig(util=util, hiring_weeks=weeks)) == expected


def test_high_utilization_trigger_fields_and_message() -> None:
    [critical] = triggers_for(
        fig("M1 4", "North West", util="85.50", total=6, confirmed=6, hiring_weeks=4)
    )
    assert critical.message == "Hire medic in North West (M1 4 sectors, 85.5% utilization)"
    assert (critical.metric_value, critical.threshold, critical.weeks_active) == (
        Decimal("85.50"),
        Decimal(80),
        4,
    )
    [warning] = triggers_for(fig("M1 4", "North West", util="80.00", hiring_weeks=0))
    assert warning.message == "Hire medic in North West (M1 4 sectors, 80% utilization)"
    assert (warning.threshold, warning.weeks_active) == (Decimal(70), 0)


# --- hiring triggers: low fulfillment and coverage gaps ------------------------------------------


@pytest.mark.parametrize(
    ("fulfillment", "total", "expected"),
    [
        ("90.00", 10, []),  # not below 90
        ("89.99", 10, [("low_fulfillment", "critical")]),
        ("89.99", 9, []),  # under the minimum volume
        ("0.00", 10, [("low_fulfillment", "critical")]),
    ],
)
def test_low_fulfillment_boundaries(fulfillment: str, total: int, expected: list[object]) -> None:
    # rejection 0 so only the fulfillment rule can fire
    assert kinds(fig(total=total, fulfillment=fulfillment, rejection="0.00")) == expected


def test_low_fulfillment_message_and_weeks() -> None:
    [t] = triggers_for(fig("B1 1", "West Midlands", total=12, fulfillment="75.00", rejection="0"))
    assert t.message == "Low fulfillment in West Midlands (B1 1: 75% of 12 bookings filled)"
    assert (t.metric_value, t.threshold, t.weeks_active) == (Decimal(75), Decimal(90), 0)


@pytest.mark.parametrize(
    ("rejection", "total", "expected"),
    [
        ("10.00", 10, []),  # not above 10
        ("10.01", 10, [("coverage_gap", "warning")]),
        ("25.00", 10, [("coverage_gap", "warning")]),  # not above 25
        ("25.01", 10, [("coverage_gap", "critical")]),
        ("25.01", 9, []),  # under the minimum volume
        ("50.00", 9, []),
    ],
)
def test_coverage_gap_trigger_boundaries(
    rejection: str, total: int, expected: list[object]
) -> None:
    # fulfillment 100 so only the rejection rule can fire
    assert kinds(fig(total=total, rejection=rejection, fulfillment="100")) == expected


def test_one_territory_can_raise_every_trigger_type() -> None:
    t = fig(
        total=10, util="100", hiring_weeks=3, fulfillment="60.00", rejection="40.00", gap_weeks=2
    )
    assert kinds(t) == [
        ("high_utilization", "critical"),
        ("low_fulfillment", "critical"),
        ("coverage_gap", "critical"),
    ]
    gap = triggers_for(t)[2]
    assert gap.message == "Coverage gap in London (SW1A 1: 40% of 10 bookings rejected)"
    assert (gap.threshold, gap.weeks_active) == (Decimal(25), 2)


def test_no_bookings_no_triggers() -> None:
    assert triggers_for(fig()) == []


def test_evaluate_sorts_counts_and_groups_by_region() -> None:
    rows = [
        fig("M1 4", "North West", util="75"),  # warning
        fig("B1 1", "West Midlands", util="100", hiring_weeks=3),  # critical
        fig("SW1A 1", "London", util="90", hiring_weeks=1),  # warning
        fig("EC1V 9", "London", total=20, rejection="30", fulfillment="70"),  # 2 critical
        fig("N1 1", "London"),  # nothing
    ]
    found = evaluate(rows)
    # urgency across regions: B1 1's 3 weeks first; then EC1V 9's fulfillment (20 points under
    # 90) before its rejection (5 over 25); SW1A 1's 1 week before M1 4's none
    assert [(t.severity, t.region, t.postcode_sector, t.trigger_type) for t in found] == [
        ("critical", "West Midlands", "B1 1", "high_utilization"),
        ("critical", "London", "EC1V 9", "low_fulfillment"),
        ("critical", "London", "EC1V 9", "coverage_gap"),
        ("warning", "London", "SW1A 1", "high_utilization"),
        ("warning", "North West", "M1 4", "high_utilization"),
    ]
    assert count_by_severity(found) == {"critical": 3, "warning": 2, "info": 0, "total": 5}
    groups = group_by_region(found)
    # regions in the order of their most urgent trigger: West Midlands (B1 1), London, North West
    assert [(g.region, g.counts["critical"], g.counts["total"]) for g in groups] == [
        ("West Midlands", 1, 1),
        ("London", 2, 3),
        ("North West", 0, 1),
    ]
    assert [t.postcode_sector for t in groups[1].triggers] == ["EC1V 9", "EC1V 9", "SW1A 1"]
    assert groups[1].to_dict()["critical"] == 2
    # a page of the first two: regions with none on it follow, by their counts
    totals = {g.region: g.counts for g in groups}
    paged = group_by_region(found[:2], totals)
    assert [(g.region, len(g.triggers)) for g in paged] == [
        ("West Midlands", 1),
        ("London", 1),
        ("North West", 0),
    ]
    assert paged[1].counts == totals["London"]


# --- coverage gaps -----------------------------------------------------------------------------


def test_recommended_action_fills_empty_slots_first() -> None:
    assert recommended_action(False, False) == ASSIGN_PRIMARY == "Assign primary medic"
    assert recommended_action(False, True) == ASSIGN_PRIMARY
    assert recommended_action(True, False) == ASSIGN_SECONDARY == "Assign secondary medic"
    assert recommended_action(True, True) == HIRE_ADDITIONAL == "Consider hiring additional medic"


@pytest.mark.parametrize(
    ("total", "note"),
    [
        (9, "Only 9 bookings - monitor before acting"),
        (1, "Only 1 bookings - monitor before acting"),
        (10, None),
    ],
)
def test_low_volume_note(total: int, note: str | None) -> None:
    assert low_volume_note(total) == note


@pytest.mark.parametrize(
    ("rejection", "severity"),
    [("10.00", None), ("10.01", "warning"), ("25.00", "warning"), ("25.01", "critical")],
)
def test_gap_severity_boundaries(rejection: str, severity: str | None) -> None:
    gap = gap_of(fig(total=10, rejection=rejection))
    assert (gap.severity if gap else None) == severity


def test_coverage_gaps_filter_volume_sort_and_describe() -> None:
    rows = [
        fig("A1 1", total=20, rejected=4, rejection="20.00", gap_weeks=2),  # warning
        fig("A2 2", total=10, rejected=3, rejection="30.00", primary=False),  # critical
        fig("A3 3", total=9, rejected=5, rejection="55.56", secondary=False),  # low volume
        fig("A4 4", total=40, rejected=11, rejection="27.50", gap_weeks=5),  # critical
        fig("A5 5", total=50, rejected=5, rejection="10.00"),  # not a gap
        fig("A6 6"),  # no bookings: no rate, no gap
    ]
    met = coverage_gaps(rows)
    # critical first (30.00 before 27.50), then warning
    assert [(g.postcode_sector, g.severity, g.rejection_rate) for g in met] == [
        ("A2 2", "critical", Decimal("30.00")),
        ("A4 4", "critical", Decimal("27.50")),
        ("A1 1", "warning", Decimal("20.00")),
    ]
    assert [g.recommended_action for g in met] == [ASSIGN_PRIMARY, HIRE_ADDITIONAL, HIRE_ADDITIONAL]
    assert [g.weeks_persisting for g in met] == [0, 5, 2]
    assert all(g.minimum_volume_met and g.note is None for g in met)

    every = coverage_gaps(rows, include_low_volume=True)
    # the 55.56% low-volume gap is critical and the highest rate: first
    assert [g.postcode_sector for g in every] == ["A3 3", "A2 2", "A4 4", "A1 1"]
    low = every[0]
    assert (low.minimum_volume_met, low.note, low.recommended_action) == (
        False,
        "Only 9 bookings - monitor before acting",
        ASSIGN_SECONDARY,
    )
    assert low.to_dict()["rejection_rate"] == 55.56


# --- summary -----------------------------------------------------------------------------------


def test_summary_of_territories() -> None:
    rows = [
        fig("A1 1", total=5, util="60.00", rejection="20.00"),
        fig("A2 2", total=6, util="80.00", rejection="33.33", secondary=False),
        fig("A3 3", util="0.00", primary=False, secondary=False),  # no bookings
        fig("A4 4", total=32, util="100.00", rejection="3.13"),
    ]
    summary = summarize(rows)
    # 4 territories, 3 with a primary; utilization (60+80+0+100)/4 = 60.00;
    # bookings 5+6+32 = 43; rejection over the 3 with bookings (20+33.33+3.13)/3 = 18.82
    assert summary.to_dict() == {
        "total": 4,
        "assigned": 3,
        "unassigned": 1,
        "average_utilization": Decimal("60.00"),
        "total_bookings": 43,
        "average_rejection_rate": Decimal("18.82"),
    }


def test_summary_rounds_half_up_and_handles_empty() -> None:
    # (10.00 + 10.01) / 2 = 10.005 -> 10.01
    rows = [fig("A1 1", total=1, rejection="10.00"), fig("A2 2", total=1, rejection="10.01")]
    assert summarize(rows).average_rejection_rate == Decimal("10.01")
    empty = summarize([])
    assert (empty.total, empty.average_utilization, empty.average_rejection_rate) == (0, None, None)
    no_bookings = summarize([fig("A1 1", util="0")])
    assert (no_bookings.average_utilization, no_bookings.average_rejection_rate) == (
        Decimal("0.00"),
        None,
    )


def test_totals_are_additive() -> None:
    a = [fig("A1 1", total=5, util="60", rejection="20"), fig("A2 2", util="0", primary=False)]
    b = [fig("A3 3", total=6, util="80", rejection="33.33")]
    ta, tb = totals_of(a), totals_of(b)
    merged = TerritoryTotals(
        ta.territories + tb.territories,
        ta.assigned + tb.assigned,
        ta.utilization_sum + tb.utilization_sum,
        ta.total_bookings + tb.total_bookings,
        ta.with_bookings + tb.with_bookings,
        ta.rejection_rate_sum + tb.rejection_rate_sum,
    )
    assert summarize_totals(merged) == summarize(a + b)


# --- SNS alert messages (pure part) -----------------------------------------------------------


def test_org_alerts_hold_only_critical_triggers_one_per_org() -> None:
    other = uuid.UUID(int=2)
    rows = [
        fig("A1 1", util="100", hiring_weeks=3),  # critical, ORG
        fig("A2 2", util="75"),  # warning only, ORG
        fig("B1 1", util="100", hiring_weeks=1, org=other),  # warning only, other
        fig("B2 2", total=10, rejection="30", fulfillment="70", org=other),  # 2 critical, other
    ]
    found = evaluate(rows)
    week = date(2026, 3, 15)
    made = alerts.org_alerts(found, week)
    assert [(a.org_id, len(a.triggers)) for a in made] == [(str(ORG), 1), (str(other), 2)]
    assert made[1].subject == "2 critical hiring triggers, week ending 2026-03-15"
    assert made[0].subject == "1 critical hiring trigger, week ending 2026-03-15"
    body = json.loads(made[1].body())
    assert (body["org_id"], body["critical_triggers"], body["truncated"]) == (str(other), 2, False)
    assert {t["trigger_type"] for t in body["triggers"]} == {"low_fulfillment", "coverage_gap"}


def test_alert_body_is_capped() -> None:
    base = fig(util="100", hiring_weeks=3)
    many = [
        triggers_for(replace(base, postcode_sector=f"X{i} 1", territory_id=uuid.uuid4()))[0]
        for i in range(alerts.MAX_TRIGGERS_PER_MESSAGE + 5)
    ]
    [alert] = alerts.org_alerts(many, date(2026, 3, 15))
    body = json.loads(alert.body())
    assert body["critical_triggers"] == alerts.MAX_TRIGGERS_PER_MESSAGE + 5
    assert len(body["triggers"]) == alerts.MAX_TRIGGERS_PER_MESSAGE and body["truncated"] is True
    assert len(alert.body().encode()) < 256 * 1024


def test_topic_region() -> None:
    assert alerts.topic_region("arn:aws:sns:eu-west-2:123456789012:hiring") == "eu-west-2"
    assert alerts.topic_region("not-an-arn") is None
