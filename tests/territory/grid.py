"""A grid of territories whose figures sit on and just either side of every threshold of
rules.py, stored in territory_metrics, with the same rows as the rules' input type, so that a
test can run a statement of the jobs or reports on the database and the pure rules on the rows.

The boundary values are read from the rules' own comparisons (so they follow a changed
threshold), the extremes are written here.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, text

from opsmetrics.territory import rules
from opsmetrics.territory.conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Figure,
    Number,
)
from opsmetrics.territory.rules import Id, TerritoryFigures
from tests.factories import org


def _compares(condition: Condition | None) -> Iterator[Compare]:
    if isinstance(condition, Compare):
        yield condition
    elif isinstance(condition, AllOf | AnyOf):
        for part in condition.parts:
            yield from _compares(part)


def _thresholds(figure: Figure) -> set[Number]:
    conditions: list[Condition | None] = [
        rules.RATED,
        rules.ENOUGH_VOLUME,
        rules.HIRING_STREAK.condition,
        rules.GAP_STREAK.condition,
    ]
    for ladder in (rules.GAP_SEVERITY, *rules.TRIGGER_LADDERS.values()):
        conditions += [step.condition for step in ladder.steps]
    return {
        c.threshold for condition in conditions for c in _compares(condition) if c.figure == figure
    }


def around(figure: Figure, step: Number, *extremes: Number) -> list[Number]:
    """Every threshold the rules compare `figure` with, a step either side, and the extremes."""
    found = {t + d for t in _thresholds(figure) for d in (-step, 0, step)} | set(extremes)
    return sorted(v for v in found if v >= 0)


def _rates(figure: Figure, *extremes: Number) -> list[str | None]:
    return [None, *(f"{Decimal(v):.2f}" for v in around(figure, Decimal("0.01"), *extremes))]


UTILIZATION = [f"{Decimal(v):.2f}" for v in around(rules.UTILIZATION, Decimal("0.01"), 0, 100)]
WEEKS = [int(v) for v in around(rules.HIRING_WEEKS, 1, 0, 1, 7)]
TOTALS = [int(v) for v in around(rules.BOOKINGS, 1, 0)]
FULFILLMENT = _rates(rules.FULFILLMENT, 0, 100)
REJECTION = _rates(rules.REJECTION, 0, 60)
REGIONS = ["London", "North West", "Wales"]


def combinations() -> list[tuple[str, int, int, str | None, str | None]]:
    """(utilization, weeks, total bookings, fulfillment, rejection)."""
    return list(itertools.product(UTILIZATION, WEEKS, TOTALS, FULFILLMENT, REJECTION))


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


@dataclass(frozen=True)
class Grid:
    org_id: uuid.UUID
    rows: list[TerritoryFigures]  # one per combination, in combinations() order, counters = weeks

    def on(self, shift: int) -> list[TerritoryFigures]:
        """Each territory with the figures of the territory `shift` places further on (another
        week's figures for the same territories), counters unchanged."""
        n = len(self.rows)
        return [
            replace(
                self.rows[(i + shift) % n],
                territory_id=row.territory_id,
                postcode_sector=row.postcode_sector,
                region=row.region,
                has_primary_medic=row.has_primary_medic,
                has_secondary_medic=row.has_secondary_medic,
                hiring_trigger_weeks=row.hiring_trigger_weeks,
                coverage_gap_weeks=row.coverage_gap_weeks,
            )
            for i, row in enumerate(self.rows)
        ]


def build_grid(conn: Connection) -> Grid:
    """One organization, a territory per combination (regions and medic slots taking turns), no
    metrics rows yet (write_rows adds them)."""
    org_id = org(conn, "Grid Medics")
    medics = [uuid.uuid4(), uuid.uuid4()]
    conn.execute(
        text(
            "INSERT INTO medics (id, org_id, full_name)"
            " SELECT unnest(CAST(:ids AS uuid[])), :org, 'Grid medic'"
        ),
        {"ids": [str(m) for m in medics], "org": org_id},
    )
    rows: list[TerritoryFigures] = []
    for i, (u, w, t, f, r) in enumerate(combinations()):
        rows.append(
            TerritoryFigures(
                territory_id=uuid.uuid4(),
                org_id=org_id,
                postcode_sector=f"G{i} {i % 10}",
                region=REGIONS[i % len(REGIONS)],
                total_bookings=t,
                confirmed_bookings=t // 2,
                rejected_bookings=t // 3,
                rejection_rate=_decimal(r),
                fulfillment_rate=_decimal(f),
                utilization=Decimal(u),
                hiring_trigger_weeks=w,
                coverage_gap_weeks=w,
                has_primary_medic=i % 2 == 0,
                has_secondary_medic=i % 4 < 2,
            )
        )
    territories = [
        {
            "id": str(row.territory_id),
            "sector": row.postcode_sector,
            "region": row.region,
            "primary": str(medics[0]) if row.has_primary_medic else None,
            "secondary": str(medics[1]) if row.has_secondary_medic else None,
        }
        for row in rows
    ]
    conn.execute(
        text(
            "INSERT INTO territories (id, org_id, postcode_sector, region, primary_medic_id,"
            " secondary_medic_id)"
            " SELECT x.id, :org, x.sector, x.region, x.primary, x.secondary"
            " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
            ' AS x(id uuid, sector text, region text, "primary" uuid, secondary uuid)'
        ),
        {"rows": json.dumps(territories), "org": org_id},
    )
    return Grid(org_id, rows)


def write_rows(conn: Connection, day: date, rows: list[TerritoryFigures]) -> None:
    """territory_metrics rows of `day` with exactly these figures and counters."""
    data = [
        {
            "id": str(row.territory_id),
            "org": str(row.org_id),
            "sector": row.postcode_sector,
            "total": row.total_bookings,
            "confirmed": row.confirmed_bookings,
            "rejected": row.rejected_bookings,
            "rejection": str(row.rejection_rate) if row.rejection_rate is not None else None,
            "fulfillment": str(row.fulfillment_rate) if row.fulfillment_rate is not None else None,
            "utilization": str(row.utilization),
            "hiring": row.hiring_trigger_weeks,
            "gap": row.coverage_gap_weeks,
        }
        for row in rows
    ]
    conn.execute(
        text(
            "INSERT INTO territory_metrics (territory_id, org_id, postcode_sector, metric_date,"
            " total_bookings, confirmed_bookings, rejected_bookings, rejection_rate,"
            " fulfillment_rate, primary_medic_utilization, hiring_trigger_weeks,"
            " coverage_gap_weeks, computed_at)"
            " SELECT x.id, x.org, x.sector, :day, x.total, x.confirmed, x.rejected,"
            " CAST(x.rejection AS numeric), CAST(x.fulfillment AS numeric),"
            " CAST(x.utilization AS numeric), x.hiring, x.gap, now()"
            " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(id uuid, org uuid, sector text,"
            " total int, confirmed int, rejected int, rejection text, fulfillment text,"
            " utilization text, hiring int, gap int)"
        ),
        {"rows": json.dumps(data), "day": day},
    )


def counters(conn: Connection, day: date) -> dict[Id, tuple[int, int]]:
    """(hiring_trigger_weeks, coverage_gap_weeks) of every row of `day`, by territory."""
    found = conn.execute(
        text(
            "SELECT territory_id, hiring_trigger_weeks, coverage_gap_weeks"
            " FROM territory_metrics WHERE metric_date = :day"
        ),
        {"day": day},
    ).all()
    return {r[0]: (r[1], r[2]) for r in found}
