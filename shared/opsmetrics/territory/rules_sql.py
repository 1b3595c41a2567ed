"""SQL twins of the pure rules, built from the same constants, for work the database must do:
the daily job computes rates in its INSERT, and the reports rank and count triggers and gaps in
the database so that only the rows shown travel to Python (where the pure rules build them).

tests/territory/test_rules_sql_db.py checks every twin against its rule on boundary values.
Expressions name territory_metrics columns through the alias `m`.
"""

from __future__ import annotations

from opsmetrics.territory.rules import (
    CRITICAL_WEEKS,
    FULFILLMENT_TARGET,
    GAP_CRITICAL_REJECTION,
    GAP_WARNING_REJECTION,
    HIRING_UTILIZATION,
    MINIMUM_VOLUME,
    UTILIZATION_CAP,
    WARNING_UTILIZATION,
    WORKING_DAYS,
)
from opsmetrics.territory.triggers import TriggerType


def rate_sql(part: str, total: str) -> str:
    """rules.rate: numeric division, round() (half up for these values); NULL without bookings."""
    return f"CASE WHEN {total} > 0 THEN round(100 * {part}::numeric / {total}, 2) END"


def utilization_sql(confirmed: str) -> str:
    """rules.utilization with the default working days."""
    return f"least({UTILIZATION_CAP}, round(100 * {confirmed}::numeric / {WORKING_DAYS}, 2))"


_VOLUME = f"m.total_bookings >= {MINIMUM_VOLUME}"

# triggers.high_utilization / low_fulfillment / coverage_gap: the severity, or NULL.
TRIGGER_SEVERITY_SQL: dict[TriggerType, str] = {
    "high_utilization": (
        f"CASE WHEN m.primary_medic_utilization > {HIRING_UTILIZATION}"
        f" AND m.hiring_trigger_weeks >= {CRITICAL_WEEKS} THEN 'critical'"
        f" WHEN m.primary_medic_utilization > {WARNING_UTILIZATION} THEN 'warning' END"
    ),
    "low_fulfillment": (
        f"CASE WHEN {_VOLUME} AND m.fulfillment_rate < {FULFILLMENT_TARGET} THEN 'critical' END"
    ),
    "coverage_gap": (
        f"CASE WHEN {_VOLUME} AND m.rejection_rate > {GAP_CRITICAL_REJECTION} THEN 'critical'"
        f" WHEN {_VOLUME} AND m.rejection_rate > {GAP_WARNING_REJECTION} THEN 'warning' END"
    ),
}

# triggers.urgency's weeks active and excess (percentage points past the threshold), per type;
# {0} is the trigger's severity ('critical' or 'warning').
TRIGGER_WEEKS_SQL: dict[TriggerType, str] = {
    "high_utilization": "m.hiring_trigger_weeks",
    "low_fulfillment": "0",
    "coverage_gap": "m.coverage_gap_weeks",
}
TRIGGER_EXCESS_SQL: dict[TriggerType, str] = {
    "high_utilization": (
        f"m.primary_medic_utilization - CASE {{0}} WHEN 'critical' THEN {HIRING_UTILIZATION}"
        f" ELSE {WARNING_UTILIZATION} END"
    ),
    "low_fulfillment": f"{FULFILLMENT_TARGET} - m.fulfillment_rate",
    "coverage_gap": (
        f"m.rejection_rate - CASE {{0}} WHEN 'critical' THEN {GAP_CRITICAL_REJECTION}"
        f" ELSE {GAP_WARNING_REJECTION} END"
    ),
}

# Severity order: critical 0, warning 1, info 2 (rules.SEVERITIES).
SEVERITY_RANK_SQL = "CASE {0} WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"

# gaps.coverage_gap (whatever the volume) and gaps.gap_severity.
GAP_SQL = f"m.rejection_rate > {GAP_WARNING_REJECTION}"
GAP_CRITICAL_SQL = f"m.rejection_rate > {GAP_CRITICAL_REJECTION}"
GAP_VOLUME_SQL = _VOLUME
