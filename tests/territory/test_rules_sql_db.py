"""The SQL twins of the trigger and gap rules agree with the pure rules on every boundary."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from sqlalchemy import Engine, text

from opsmetrics.territory.gaps import gap_of
from opsmetrics.territory.rules import TRIGGER_TYPES, TerritoryFigures
from opsmetrics.territory.rules_sql import (
    GAP_SEVERITY_SQL,
    GAP_SQL,
    GAP_VOLUME_SQL,
    TRIGGER_SEVERITY_SQL,
)
from opsmetrics.territory.triggers import trigger_of

# Each threshold, just either side of it, and the extremes.
UTILIZATION = ["0.00", "70.00", "70.01", "80.00", "80.01", "100.00"]
WEEKS = [0, 2, 3, 7]
TOTALS = [0, 9, 10, 40]
FULFILLMENT = [None, "0.00", "89.99", "90.00", "100.00"]
REJECTION = [None, "0.00", "10.00", "10.01", "25.00", "25.01", "60.00"]


def _sql_value(v: str | None) -> str:
    return "NULL::numeric" if v is None else f"{v}::numeric"


def test_sql_twins_match_the_rules_on_every_combination(db: Engine) -> None:
    combos = list(itertools.product(UTILIZATION, WEEKS, TOTALS, FULFILLMENT, REJECTION))
    assert len(combos) == 6 * 4 * 4 * 5 * 7  # 3,360 territory rows
    values = ", ".join(
        f"({i}, {u}::numeric, {w}, {t}, {_sql_value(f)}, {_sql_value(r)})"
        for i, (u, w, t, f, r) in enumerate(combos)
    )
    columns = ", ".join(TRIGGER_SEVERITY_SQL[kind] for kind in TRIGGER_TYPES)
    sql = (
        f"SELECT i, {columns}, {GAP_SQL}, {GAP_SEVERITY_SQL}, {GAP_VOLUME_SQL}"
        f" FROM (VALUES {values}) AS m(i, primary_medic_utilization, hiring_trigger_weeks,"
        " total_bookings, fulfillment_rate, rejection_rate) ORDER BY i"
    )
    with db.connect() as conn:
        rows = conn.execute(text(sql)).all()
    assert len(rows) == len(combos)
    seen_severities = set()
    for (u, w, t, f, r), (_, *sql_severities, is_gap, gap_severity, volume_met) in zip(
        combos, rows, strict=True
    ):
        fig = TerritoryFigures(
            territory_id=uuid.UUID(int=1),
            org_id=uuid.UUID(int=2),
            postcode_sector="SW1A 1",
            region="London",
            total_bookings=t,
            confirmed_bookings=0,
            rejected_bookings=0,
            rejection_rate=Decimal(r) if r is not None else None,
            fulfillment_rate=Decimal(f) if f is not None else None,
            utilization=Decimal(u),
            hiring_trigger_weeks=w,
            coverage_gap_weeks=w,
        )
        for kind, sql_severity in zip(TRIGGER_TYPES, sql_severities, strict=True):
            rule = trigger_of(kind, fig)
            assert (rule.severity if rule else None) == sql_severity, (kind, u, w, t, f, r)
            seen_severities.add((kind, sql_severity))
        gap = gap_of(fig)
        assert (gap is not None) == bool(is_gap), (t, r)
        if gap is not None:
            assert gap.severity == gap_severity, r
            assert gap.minimum_volume_met == volume_met, t
    # the grid reaches every outcome of every rule
    assert seen_severities == {
        ("high_utilization", None),
        ("high_utilization", "warning"),
        ("high_utilization", "critical"),
        ("low_fulfillment", None),
        ("low_fulfillment", "critical"),
        ("coverage_gap", None),
        ("coverage_gap", "warning"),
        ("coverage_gap", "critical"),
    }
