"""Coverage gaps: where too many bookings are rejected, and what to do (spec §4). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from opsmetrics.territory.conditions import SEVERITIES, Severity
from opsmetrics.territory.rules import (
    ENOUGH_VOLUME,
    GAP_SEVERITY,
    Id,
    TerritoryFigures,
    meets_minimum_volume,
)

ASSIGN_PRIMARY = "Assign primary medic"
ASSIGN_SECONDARY = "Assign secondary medic"
HIRE_ADDITIONAL = "Consider hiring additional medic"


@dataclass(frozen=True)
class CoverageGap:
    territory_id: Id
    org_id: Id
    postcode_sector: str
    region: str
    rejection_rate: Decimal
    total_bookings: int
    rejected_bookings: int
    severity: Severity
    minimum_volume_met: bool
    weeks_persisting: int
    recommended_action: str
    note: str | None  # set on low-volume gaps only

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory_id": str(self.territory_id),
            "org_id": str(self.org_id),
            "postcode_sector": self.postcode_sector,
            "region": self.region,
            "rejection_rate": float(self.rejection_rate),
            "total_bookings": self.total_bookings,
            "rejected_bookings": self.rejected_bookings,
            "severity": self.severity,
            "minimum_volume_met": self.minimum_volume_met,
            "weeks_persisting": self.weeks_persisting,
            "recommended_action": self.recommended_action,
            "note": self.note,
        }


def low_volume_note(total_bookings: int) -> str | None:
    """The caution a gap on too few bookings carries; None when the volume is enough."""
    if meets_minimum_volume(total_bookings):
        return None
    return f"Only {total_bookings} bookings - monitor before acting"


def recommended_action(has_primary_medic: bool, has_secondary_medic: bool) -> str:
    """Fill the empty medic slot first; hire only when both are filled."""
    if not has_primary_medic:
        return ASSIGN_PRIMARY
    if not has_secondary_medic:
        return ASSIGN_SECONDARY
    return HIRE_ADDITIONAL


def gap_of(t: TerritoryFigures) -> CoverageGap | None:
    """The coverage gap of one territory whatever its volume (rules.GAP_SEVERITY; the list
    below filters on volume); None when it has none."""
    step = GAP_SEVERITY.step(t)
    if step is None or t.rejection_rate is None:
        return None
    return CoverageGap(
        territory_id=t.territory_id,
        org_id=t.org_id,
        postcode_sector=t.postcode_sector,
        region=t.region,
        rejection_rate=t.rejection_rate,
        total_bookings=t.total_bookings,
        rejected_bookings=t.rejected_bookings,
        severity=step.severity,
        minimum_volume_met=ENOUGH_VOLUME.holds(t),
        weeks_persisting=t.coverage_gap_weeks,
        recommended_action=recommended_action(t.has_primary_medic, t.has_secondary_medic),
        note=low_volume_note(t.total_bookings),
    )


def sort_gaps(gaps: Iterable[CoverageGap]) -> list[CoverageGap]:
    """Critical first, then by rejection rate, highest first (ties: sector, territory id)."""
    return sorted(
        gaps,
        key=lambda g: (
            SEVERITIES.index(g.severity),
            -g.rejection_rate,
            g.postcode_sector,
            str(g.territory_id),
        ),
    )


def coverage_gaps(
    rows: Iterable[TerritoryFigures], *, include_low_volume: bool = False
) -> list[CoverageGap]:
    """Sorted gaps; those under the minimum volume only when asked for."""
    found = (gap_of(row) for row in rows)
    return sort_gaps(
        g for g in found if g is not None and (include_low_volume or g.minimum_volume_met)
    )
