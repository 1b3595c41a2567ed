"""Staffing thresholds, rates, utilization and the territory summary (spec §4). Pure: no I/O.

The SQL of the jobs uses these same constants, so a threshold changes in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

# A medic works five shifts a week: five confirmed bookings in the 7-day window is a full load.
WORKING_DAYS = 5
# Utilization is a share of one medic's week; more bookings than that still read as "full".
UTILIZATION_CAP = Decimal(100)
# Under 10 bookings one booking moves a rate by 10+ points: too noisy to act on (spec §4).
MINIMUM_VOLUME = 10
# Above 80% a single absence leaves shifts uncovered: the week counts towards a hiring trigger.
HIRING_UTILIZATION = Decimal(80)
# Between 70% and 80% there is still slack, but hiring takes weeks: warn early.
WARNING_UTILIZATION = Decimal(70)
# Three overloaded weeks in a row rule out a one-off busy week: hire now.
CRITICAL_WEEKS = 3
# Clients expect at least 9 in 10 requested shifts to be filled.
FULFILLMENT_TARGET = Decimal(90)
# More than 1 in 10 requests turned away means the territory is short of cover.
GAP_WARNING_REJECTION = Decimal(10)
# More than 1 in 4 turned away: clients go elsewhere.
GAP_CRITICAL_REJECTION = Decimal(25)

# Booking statuses, matched exactly as stored; anything else is bad input (spec §5).
COUNTED_STATUSES = ("pending", "confirmed", "completed", "rejected")
CONFIRMED_STATUSES = ("confirmed", "completed")
REJECTED_STATUS = "rejected"
CANCELLED_STATUS = "cancelled"
KNOWN_STATUSES = (*COUNTED_STATUSES, CANCELLED_STATUS)

Severity = Literal["info", "warning", "critical"]
# Territory and organization ids as the database gave them: UUIDs, or their text from JSON.
Id = uuid.UUID | str
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")  # most urgent first

_CENTS = Decimal("0.01")


def round_half_up(value: Decimal) -> Decimal:
    """Two decimal places, halves away from zero (as PostgreSQL's round(numeric, 2))."""
    return value.quantize(_CENTS, rounding=ROUND_HALF_UP)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def rate(part: int, total: int) -> Decimal | None:
    """100·part/total to 2 places half up; None when there is nothing to divide by."""
    _check_count("part", part)
    _check_count("total", total)
    if part > total:
        raise ValueError(f"part {part} exceeds total {total}")
    if total == 0:
        return None
    return round_half_up(Decimal(100 * part) / Decimal(total))


def utilization(confirmed: int, working_days: int = WORKING_DAYS) -> Decimal:
    """min(100, 100·confirmed/working_days) to 2 places half up."""
    _check_count("confirmed", confirmed)
    if isinstance(working_days, bool) or not isinstance(working_days, int):
        raise TypeError(f"working_days must be a whole number, got {working_days!r}")
    if working_days <= 0:
        raise ValueError(f"working_days must be positive, got {working_days}")
    return min(UTILIZATION_CAP, round_half_up(Decimal(100 * confirmed) / Decimal(working_days)))


def meets_minimum_volume(total_bookings: int) -> bool:
    return total_bookings >= MINIMUM_VOLUME


@dataclass(frozen=True)
class TerritoryFigures:
    """One territory on one date: its territory_metrics row plus the territory's own fields."""

    territory_id: Id
    org_id: Id
    postcode_sector: str
    region: str
    total_bookings: int
    confirmed_bookings: int
    rejected_bookings: int
    rejection_rate: Decimal | None
    fulfillment_rate: Decimal | None
    utilization: Decimal
    hiring_trigger_weeks: int = 0
    coverage_gap_weeks: int = 0
    has_primary_medic: bool = False
    has_secondary_medic: bool = False


@dataclass(frozen=True)
class TerritoryTotals:
    """Additive sums over territories: what SQL can aggregate and the summary is finished from."""

    territories: int = 0
    assigned: int = 0
    utilization_sum: Decimal = Decimal(0)
    total_bookings: int = 0
    with_bookings: int = 0
    rejection_rate_sum: Decimal = Decimal(0)  # over the territories with bookings


@dataclass(frozen=True)
class TerritorySummary:
    total: int
    assigned: int  # has a primary medic
    unassigned: int
    average_utilization: Decimal | None  # None when there are no territories
    total_bookings: int
    average_rejection_rate: Decimal | None  # over territories with bookings; None if none had any

    def to_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "assigned": self.assigned,
            "unassigned": self.unassigned,
            "average_utilization": self.average_utilization,
            "total_bookings": self.total_bookings,
            "average_rejection_rate": self.average_rejection_rate,
        }


def totals_of(rows: Iterable[TerritoryFigures]) -> TerritoryTotals:
    territories = assigned = bookings = with_bookings = 0
    util_sum = rej_sum = Decimal(0)
    for row in rows:
        territories += 1
        assigned += row.has_primary_medic
        util_sum += row.utilization
        bookings += row.total_bookings
        if row.total_bookings > 0 and row.rejection_rate is not None:
            with_bookings += 1
            rej_sum += row.rejection_rate
    return TerritoryTotals(territories, assigned, util_sum, bookings, with_bookings, rej_sum)


def summarize_totals(totals: TerritoryTotals) -> TerritorySummary:
    """The territory summary from additive sums; averages rounded to 2 places half up."""
    avg_util = (
        round_half_up(totals.utilization_sum / totals.territories) if totals.territories else None
    )
    avg_rej = (
        round_half_up(totals.rejection_rate_sum / totals.with_bookings)
        if totals.with_bookings
        else None
    )
    return TerritorySummary(
        total=totals.territories,
        assigned=totals.assigned,
        unassigned=totals.territories - totals.assigned,
        average_utilization=avg_util,
        total_bookings=totals.total_bookings,
        average_rejection_rate=avg_rej,
    )


def summarize(rows: Iterable[TerritoryFigures]) -> TerritorySummary:
    return summarize_totals(totals_of(rows))


def plain_number(value: Decimal) -> str:
    """A figure as people write it in a sentence: 85, 85.5, 85.25 (no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
