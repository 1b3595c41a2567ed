"""Hiring triggers for one week, and their grouping by region (spec §4). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from opsmetrics.territory.rules import (
    CRITICAL_WEEKS,
    FULFILLMENT_TARGET,
    GAP_CRITICAL_REJECTION,
    GAP_WARNING_REJECTION,
    HIRING_UTILIZATION,
    SEVERITIES,
    WARNING_UTILIZATION,
    Id,
    Severity,
    TerritoryFigures,
    meets_minimum_volume,
    plain_number,
)

TriggerType = Literal["high_utilization", "low_fulfillment", "coverage_gap"]
TRIGGER_TYPES: tuple[TriggerType, ...] = ("high_utilization", "low_fulfillment", "coverage_gap")


@dataclass(frozen=True)
class HiringTrigger:
    territory_id: Id
    org_id: Id
    postcode_sector: str
    region: str
    trigger_type: TriggerType
    severity: Severity
    message: str
    metric_value: Decimal
    threshold: Decimal
    # The consecutive-week counter kept for the condition (see docs/territory.md); 0 for
    # low_fulfillment, which has no counter (an integer always, for dashboards that sum it).
    weeks_active: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory_id": str(self.territory_id),
            "org_id": str(self.org_id),
            "postcode_sector": self.postcode_sector,
            "region": self.region,
            "trigger_type": self.trigger_type,
            "severity": self.severity,
            "message": self.message,
            "metric_value": float(self.metric_value),
            "threshold": float(self.threshold),
            "weeks_active": self.weeks_active,
        }


def high_utilization(t: TerritoryFigures) -> HiringTrigger | None:
    """> 80% for 3+ consecutive weeks: critical; otherwise > 70%: warning."""
    if t.utilization > HIRING_UTILIZATION and t.hiring_trigger_weeks >= CRITICAL_WEEKS:
        severity: Severity = "critical"
        threshold = HIRING_UTILIZATION
    elif t.utilization > WARNING_UTILIZATION:
        severity, threshold = "warning", WARNING_UTILIZATION
    else:
        return None
    message = (
        f"Hire medic in {t.region} ({t.postcode_sector} sectors,"
        f" {plain_number(t.utilization)}% utilization)"
    )
    return HiringTrigger(
        t.territory_id,
        t.org_id,
        t.postcode_sector,
        t.region,
        "high_utilization",
        severity,
        message,
        t.utilization,
        threshold,
        t.hiring_trigger_weeks,
    )


def low_fulfillment(t: TerritoryFigures) -> HiringTrigger | None:
    """Fulfillment < 90% with at least 10 bookings: critical."""
    rate = t.fulfillment_rate
    if rate is None or not meets_minimum_volume(t.total_bookings) or rate >= FULFILLMENT_TARGET:
        return None
    message = (
        f"Low fulfillment in {t.region} ({t.postcode_sector}:"
        f" {plain_number(rate)}% of {t.total_bookings} bookings filled)"
    )
    return HiringTrigger(
        t.territory_id,
        t.org_id,
        t.postcode_sector,
        t.region,
        "low_fulfillment",
        "critical",
        message,
        rate,
        FULFILLMENT_TARGET,
        0,
    )


def coverage_gap(t: TerritoryFigures) -> HiringTrigger | None:
    """Rejection > 25% with at least 10 bookings: critical; > 10%: warning."""
    rate = t.rejection_rate
    if rate is None or not meets_minimum_volume(t.total_bookings):
        return None
    if rate > GAP_CRITICAL_REJECTION:
        severity: Severity = "critical"
        threshold = GAP_CRITICAL_REJECTION
    elif rate > GAP_WARNING_REJECTION:
        severity, threshold = "warning", GAP_WARNING_REJECTION
    else:
        return None
    message = (
        f"Coverage gap in {t.region} ({t.postcode_sector}:"
        f" {plain_number(rate)}% of {t.total_bookings} bookings rejected)"
    )
    return HiringTrigger(
        t.territory_id,
        t.org_id,
        t.postcode_sector,
        t.region,
        "coverage_gap",
        severity,
        message,
        rate,
        threshold,
        t.coverage_gap_weeks,
    )


RULES: dict[TriggerType, Callable[[TerritoryFigures], HiringTrigger | None]] = {
    "high_utilization": high_utilization,
    "low_fulfillment": low_fulfillment,
    "coverage_gap": coverage_gap,
}


def triggers_for(t: TerritoryFigures) -> list[HiringTrigger]:
    """Every trigger one territory raises (each type independently)."""
    found = (RULES[kind](t) for kind in TRIGGER_TYPES)
    return [trigger for trigger in found if trigger is not None]


def excess(trigger: HiringTrigger) -> Decimal:
    """How far past its threshold a trigger is, in percentage points (fulfillment counts down)."""
    if trigger.trigger_type == "low_fulfillment":
        return trigger.threshold - trigger.metric_value
    return trigger.metric_value - trigger.threshold


def urgency(trigger: HiringTrigger) -> tuple[int, int, Decimal, str, str, int, str]:
    """Most urgent first, whatever the region: severity, then the longest-running condition
    (weeks active), then the furthest past its threshold; region, sector and type only break
    ties. (Region first would fill a page with one region's triggers.)"""
    return (
        SEVERITIES.index(trigger.severity),
        -trigger.weeks_active,
        -excess(trigger),
        trigger.region,
        trigger.postcode_sector,
        TRIGGER_TYPES.index(trigger.trigger_type),
        str(trigger.territory_id),
    )


def sort_triggers(triggers: Iterable[HiringTrigger]) -> list[HiringTrigger]:
    """Most urgent first (see `urgency`)."""
    return sorted(triggers, key=urgency)


def evaluate(rows: Iterable[TerritoryFigures]) -> list[HiringTrigger]:
    """All triggers of a week's territory rows, most urgent first."""
    return sort_triggers(trigger for row in rows for trigger in triggers_for(row))


def count_by_severity(triggers: Iterable[HiringTrigger]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for trigger in triggers:
        counts[trigger.severity] += 1
    counts["total"] = sum(counts.values())
    return counts


@dataclass
class RegionTriggers:
    region: str
    triggers: list[HiringTrigger] = field(default_factory=list)
    # Counts over every trigger of the region when `triggers` holds only some of them.
    totals: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.totals if self.totals is not None else count_by_severity(self.triggers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            **self.counts,
            "triggers": [t.to_dict() for t in self.triggers],
        }


def group_by_region(
    triggers: Iterable[HiringTrigger], totals: Mapping[str, dict[str, int]] | None = None
) -> list[RegionTriggers]:
    """Triggers per region, each in urgency order; the region with the most urgent trigger
    first, and so on, so that the first group always opens with the most urgent trigger.

    totals: counts by severity per region over all triggers, when `triggers` is only the first
    of them (a report page); regions without a listed trigger still get their group, after the
    others, those with the most critical (then most) triggers first.
    """
    groups: dict[str, RegionTriggers] = {}
    first_seen: dict[str, int] = {}
    for position, trigger in enumerate(sort_triggers(triggers)):
        first_seen.setdefault(trigger.region, position)
        groups.setdefault(trigger.region, RegionTriggers(trigger.region)).triggers.append(trigger)
    for region, counts in (totals or {}).items():
        groups.setdefault(region, RegionTriggers(region)).totals = counts

    def order(group: RegionTriggers) -> tuple[int, int, int, str]:
        counts = group.counts
        seen = first_seen.get(group.region, len(first_seen) + 10**9)
        return (seen, -counts["critical"], -counts["total"], group.region)

    return sorted(groups.values(), key=order)
