"""The territory summary (spec §4): additive totals over territories, finished into averages.

The totals have two spellings side by side: `totals_of` over rows in Python and `TOTALS_SQL`
for the territories report, which sums in the database; both count a territory's rejection
rate under the one condition rules.RATED. tests/territory/test_rules_sql_db.py compares the
report's summary with `summarize` on a grid of boundary rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from opsmetrics.territory.conditions import in_figures
from opsmetrics.territory.rules import RATED, TerritoryFigures, round_half_up


@dataclass(frozen=True)
class TerritoryTotals:
    """Additive sums over territories: what SQL can aggregate and the summary is finished from."""

    territories: int = 0
    assigned: int = 0
    utilization_sum: Decimal = Decimal(0)
    total_bookings: int = 0
    with_bookings: int = 0
    rejection_rate_sum: Decimal = Decimal(0)  # over the RATED territories


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
        if RATED.holds(row):
            assert row.rejection_rate is not None  # RATED says so
            with_bookings += 1
            rej_sum += row.rejection_rate
    return TerritoryTotals(territories, assigned, util_sum, bookings, with_bookings, rej_sum)


# TerritoryTotals as SQL aggregates over rows with figures.FIGURE_COLUMNS' names.
_RATED = RATED.sql(in_figures)
TOTALS_SQL_PARTS = {
    "territories": "count(*)",
    "assigned": "count(*) FILTER (WHERE has_primary_medic)",
    "utilization_sum": "coalesce(sum(utilization), 0)",
    "total_bookings": "coalesce(sum(total_bookings), 0)",
    "with_bookings": f"count(*) FILTER (WHERE {_RATED})",
    "rejection_rate_sum": f"coalesce(sum(rejection_rate) FILTER (WHERE {_RATED}), 0)",
}
# One JSON object with TerritoryTotals' fields.
TOTALS_SQL = (
    "json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in TOTALS_SQL_PARTS.items()) + ")"
)


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
