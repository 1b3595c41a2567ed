"""Hiring triggers for one week, and their grouping by region (spec §4). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from opsmetrics.territory.conditions import SEVERITIES, Severity
from opsmetrics.territory.rules import (
    TRIGGER_LADDERS,
    TRIGGER_TYPES,
    WEEKS_ACTIVE,
    Id,
    TerritoryFigures,
    TriggerType,
)


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


def plain_number(value: Decimal) -> str:
    """A figure as people write it in a sentence: 85, 85.5, 85.25 (no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Each trigger's message; {figure} is its figure (utilization or a rate) in plain_number's form.
_MESSAGES: dict[TriggerType, str] = {
    "high_utilization": "Hire medic in {region} ({sector} sectors, {figure}% utilization)",
    "low_fulfillment": (
        "Low fulfillment in {region} ({sector}: {figure}% of {total} bookings filled)"
    ),
    "coverage_gap": "Coverage gap in {region} ({sector}: {figure}% of {total} bookings rejected)",
}


def trigger_of(kind: TriggerType, t: TerritoryFigures) -> HiringTrigger | None:
    """The trigger of type `kind` one territory raises, by rules.TRIGGER_LADDERS; None if none."""
    ladder = TRIGGER_LADDERS[kind]
    step = ladder.step(t)
    if step is None:
        return None
    figure = ladder.figure.of(t)
    assert figure is not None  # no step holds on a missing figure
    value = Decimal(figure)
    message = _MESSAGES[kind].format(
        region=t.region,
        sector=t.postcode_sector,
        figure=plain_number(value),
        total=t.total_bookings,
    )
    weeks = WEEKS_ACTIVE[kind]
    return HiringTrigger(
        t.territory_id,
        t.org_id,
        t.postcode_sector,
        t.region,
        kind,
        step.severity,
        message,
        value,
        Decimal(step.test.threshold),
        int(weeks.of(t) or 0) if weeks else 0,
    )


def triggers_for(t: TerritoryFigures) -> list[HiringTrigger]:
    """Every trigger one territory raises (each type independently)."""
    found = (trigger_of(kind, t) for kind in TRIGGER_TYPES)
    return [trigger for trigger in found if trigger is not None]


def excess(trigger: HiringTrigger) -> Decimal:
    """How far past its threshold a trigger is, in percentage points (fulfillment counts down)."""
    return TRIGGER_LADDERS[trigger.trigger_type].excess(trigger.metric_value, trigger.threshold)


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
