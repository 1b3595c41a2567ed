"""The rules of rules.py in SQL, generated from the same objects, for work the database must do:
the daily job computes rates in its INSERT, the weekly job keeps its counters and reads only the
trigger candidates, and the reports rank and count triggers and gaps in the database so that only
the rows shown travel to Python (where the pure rules build them).

Nothing here writes a threshold: the conditions and severities are rendered from rules.py, and
rate_sql / utilization_sql use its constants. tests/territory/test_rules_sql_db.py checks every
expression, and the statements built from them, against the rules on boundary values.
Expressions name territory_metrics columns through the alias `m`.
"""

from __future__ import annotations

from opsmetrics.territory.conditions import AnyOf, in_metrics, severity_rank_sql
from opsmetrics.territory.rules import (
    ENOUGH_VOLUME,
    GAP_SEVERITY,
    GAP_STREAK,
    HIRING_STREAK,
    TRIGGER_LADDERS,
    TRIGGER_TYPES,
    UTILIZATION_CAP,
    WEEKS_ACTIVE,
    WORKING_DAYS,
    TriggerType,
)


def rate_sql(part: str, total: str) -> str:
    """rules.rate: numeric division, round() (half up for these values); NULL without bookings."""
    return f"CASE WHEN {total} > 0 THEN round(100 * {part}::numeric / {total}, 2) END"


def utilization_sql(confirmed: str) -> str:
    """rules.utilization with the default working days."""
    return f"least({UTILIZATION_CAP}, round(100 * {confirmed}::numeric / {WORKING_DAYS}, 2))"


# triggers.trigger_of, per type: the severity, or NULL.
TRIGGER_SEVERITY_SQL: dict[TriggerType, str] = {
    kind: ladder.severity_sql() for kind, ladder in TRIGGER_LADDERS.items()
}

# triggers.urgency's weeks active and excess (percentage points past the threshold), per type;
# {0} is the trigger's severity ('critical' or 'warning').
TRIGGER_WEEKS_SQL: dict[TriggerType, str] = {
    kind: in_metrics(weeks) if weeks else "0" for kind, weeks in WEEKS_ACTIVE.items()
}
TRIGGER_EXCESS_SQL: dict[TriggerType, str] = {
    kind: ladder.excess_sql("{0}") for kind, ladder in TRIGGER_LADDERS.items()
}

# Rows that raise a hiring trigger of some type: the weekly job reads only these.
TRIGGER_CANDIDATES = AnyOf(tuple(TRIGGER_LADDERS[kind].raised for kind in TRIGGER_TYPES)).sql()

# Severity order: critical 0, warning 1, info 2 (conditions.SEVERITIES).
SEVERITY_RANK_SQL = severity_rank_sql("{0}")

# gaps.gap_of: a gap whatever the volume, its severity, and whether it meets the volume.
GAP_SQL = GAP_SEVERITY.raised.sql()
GAP_SEVERITY_SQL = GAP_SEVERITY.severity_sql()
GAP_VOLUME_SQL = ENOUGH_VOLUME.sql()

# The weeks each of the weekly job's counters counts (rules.HIRING_STREAK, GAP_STREAK).
OVERLOADED_SQL = HIRING_STREAK.condition.sql()
GAP_WEEK_SQL = GAP_STREAK.condition.sql()
