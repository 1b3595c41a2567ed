"""The staffing rules (spec §4), each defined once: the thresholds, and the conditions and
severities built from them. Pure: no I/O.

Everything else derives from these definitions: the hiring triggers (triggers.py) and coverage
gaps (gaps.py) evaluate them; the SQL of the jobs and reports is generated from the same objects
(rules_sql.py); the weekly counters (streaks.py) and the territory summary (summary.py) use the
conditions below. To change a rule, change it here: tests/territory/test_rules_sql_db.py runs
every derived spelling (SQL twins, counters, trigger candidates, report counts and summary) on a
grid of boundary values and fails where one disagrees with the rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from opsmetrics.territory.conditions import Condition, Figure, Ladder, Step

# --- thresholds ---------------------------------------------------------------------------------

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

# Territory and organization ids as the database gave them: UUIDs, or their text from JSON.
Id = uuid.UUID | str


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


# --- the figures the rules compare: TerritoryFigures field and territory_metrics column ---------

UTILIZATION = Figure("utilization", "primary_medic_utilization")
FULFILLMENT = Figure("fulfillment_rate", "fulfillment_rate")
REJECTION = Figure("rejection_rate", "rejection_rate")
BOOKINGS = Figure("total_bookings", "total_bookings")
HIRING_WEEKS = Figure("hiring_trigger_weeks", "hiring_trigger_weeks")
GAP_WEEKS = Figure("coverage_gap_weeks", "coverage_gap_weeks")

# --- conditions ---------------------------------------------------------------------------------

# Enough bookings for a rate to mean something.
ENOUGH_VOLUME = BOOKINGS.at_least(MINIMUM_VOLUME)
# A week that counts towards hiring_trigger_weeks.
OVERLOADED = UTILIZATION.above(HIRING_UTILIZATION)
# The territories whose rejection rate the summary averages: those with bookings.
RATED = BOOKINGS.above(0) & REJECTION.is_set()

# --- severities ---------------------------------------------------------------------------------

# A coverage gap, whatever the volume (the coverage-gaps report lists low-volume ones on request).
GAP_SEVERITY = Ladder(
    (
        Step("critical", REJECTION.above(GAP_CRITICAL_REJECTION)),
        Step("warning", REJECTION.above(GAP_WARNING_REJECTION)),
    )
)

TriggerType = Literal["high_utilization", "low_fulfillment", "coverage_gap"]
TRIGGER_TYPES: tuple[TriggerType, ...] = ("high_utilization", "low_fulfillment", "coverage_gap")

# The hiring triggers (each type independently; a territory can raise several).
TRIGGER_LADDERS: dict[TriggerType, Ladder] = {
    "high_utilization": Ladder(
        (
            # overloaded (the week counts towards hiring_trigger_weeks) for CRITICAL_WEEKS+
            Step("critical", OVERLOADED, HIRING_WEEKS.at_least(CRITICAL_WEEKS)),
            Step("warning", UTILIZATION.above(WARNING_UTILIZATION)),
        )
    ),
    "low_fulfillment": Ladder(
        (Step("critical", FULFILLMENT.below(FULFILLMENT_TARGET), ENOUGH_VOLUME),)
    ),
    # the volume rule applies to both severities
    "coverage_gap": GAP_SEVERITY.requiring(ENOUGH_VOLUME),
}
# A trigger's weeks_active: the consecutive-week counter kept for its condition (None: 0).
WEEKS_ACTIVE: dict[TriggerType, Figure | None] = {
    "high_utilization": HIRING_WEEKS,
    "low_fulfillment": None,
    "coverage_gap": GAP_WEEKS,
}

# --- the weekly job's consecutive-week counters (spec §3, §7) -----------------------------------


@dataclass(frozen=True)
class Streak:
    """A counter of consecutive weeks: a week that meets `condition` adds one to the previous
    week's count (a missing previous week counts 0); any other week resets it to 0."""

    counter: Figure
    condition: Condition

    def next_count(self, previous: int, row: object) -> int:
        return previous + 1 if self.condition.holds(row) else 0


HIRING_STREAK = Streak(HIRING_WEEKS, OVERLOADED)
# The weeks that raise a coverage_gap trigger (warning or critical).
GAP_STREAK = Streak(GAP_WEEKS, TRIGGER_LADDERS["coverage_gap"].raised)

# --- rates and utilization ----------------------------------------------------------------------

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
    return ENOUGH_VOLUME.accepts(total_bookings)


# --- the rules in words, for people (help texts, the demo's closing lines) ----------------------
# Built from the constants above, so that a changed threshold changes what people are told.


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f} %"


LOW_VOLUME = f"fewer than {MINIMUM_VOLUME} bookings"
OVERLOADED_WORDS = f"above {_pct(HIRING_UTILIZATION)}"
IN_WORDS = (
    f"  utilization = confirmed bookings in the 7 days / {WORKING_DAYS} working days of one primary"
    f" medic, capped at {_pct(UTILIZATION_CAP)};",
    f"  high_utilization is a warning above {_pct(WARNING_UTILIZATION)}, and critical"
    f" {OVERLOADED_WORDS} for {CRITICAL_WEEKS}+ weeks in a row (weeks_active);",
    f"  low_fulfillment: below {_pct(FULFILLMENT_TARGET)} of at least {MINIMUM_VOLUME} bookings"
    " confirmed;",
    f"  coverage gaps: more than {_pct(GAP_WARNING_REJECTION)} (warning) or"
    f" {_pct(GAP_CRITICAL_REJECTION)} (critical) of at least {MINIMUM_VOLUME} bookings rejected.",
)

# What the dashboard colours and labels by (served as /assets/rules.js): the page never writes a
# threshold of its own.
FOR_THE_DASHBOARD = {"overloadedAbove": float(HIRING_UTILIZATION), "lowVolume": LOW_VOLUME}
