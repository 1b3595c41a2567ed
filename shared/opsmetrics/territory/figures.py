"""Read one date's territory rows (territory_metrics + territories) as the rules' input type."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.territory.rules import TerritoryFigures

# Columns of TerritoryFigures, from territory_metrics m joined to territories t.
FIGURE_COLUMNS = """
    m.territory_id, m.org_id, m.postcode_sector, t.region, m.total_bookings,
    m.confirmed_bookings, m.rejected_bookings, m.rejection_rate, m.fulfillment_rate,
    m.primary_medic_utilization AS utilization, m.hiring_trigger_weeks, m.coverage_gap_weeks,
    t.primary_medic_id IS NOT NULL AS has_primary_medic,
    t.secondary_medic_id IS NOT NULL AS has_secondary_medic
"""


def org_filter(org_id: uuid.UUID | None, alias: str, params: dict[str, Any]) -> str:
    """` AND <alias>.org_id = :org_id`, its value added to params; "" for every organization."""
    if org_id is None:
        return ""
    params["org_id"] = org_id
    return f" AND {alias}.org_id = :org_id"


def figures_from(row: Mapping[str, Any]) -> TerritoryFigures:
    """From a result row or a JSON object with the FIGURE_COLUMNS names."""
    return TerritoryFigures(
        territory_id=row["territory_id"],
        org_id=row["org_id"],
        postcode_sector=row["postcode_sector"],
        region=row["region"],
        total_bookings=row["total_bookings"],
        confirmed_bookings=row["confirmed_bookings"],
        rejected_bookings=row["rejected_bookings"],
        rejection_rate=row["rejection_rate"],
        fulfillment_rate=row["fulfillment_rate"],
        utilization=row["utilization"],
        hiring_trigger_weeks=row["hiring_trigger_weeks"],
        coverage_gap_weeks=row["coverage_gap_weeks"],
        has_primary_medic=row["has_primary_medic"],
        has_secondary_medic=row["has_secondary_medic"],
    )


def read_figures(
    conn: Connection,
    day: date,
    *,
    org_id: uuid.UUID | None = None,
    region: str | None = None,
    where: str | None = None,
) -> list[TerritoryFigures]:
    """The territory rows of `day`: one organization or all, one region (any case) or all,
    optionally pre-filtered by a SQL condition on m (territory_metrics) and t (territories)."""
    sql = (
        f"SELECT {FIGURE_COLUMNS} FROM territory_metrics m"
        " JOIN territories t ON t.id = m.territory_id"
        " WHERE m.metric_date = :day"
    )
    params: dict[str, Any] = {"day": day}
    sql += org_filter(org_id, "m", params)
    if region:
        sql += " AND lower(t.region) = lower(:region)"
        params["region"] = region.strip()
    if where:
        sql += f" AND {where}"
    return [figures_from(dict(r)) for r in conn.execute(text(sql), params).mappings()]
