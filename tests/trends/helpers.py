"""Reading back what the trend job wrote."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.run_results import RunSummary

JOB = "daily-trend-aggregation"
FIGURES = (
    "topic_distribution",
    "sentiment_distribution",
    "escalation_counts",
    "channel_hotspots",
    "total_classifications",
    "avg_confidence",
)


def trend_rows(engine: Engine, day: date | None = None) -> dict[uuid.UUID, dict[str, Any]]:
    """{organization: row} of the 'daily' rows (of one day when given)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT * FROM communication_trends WHERE trend_period = 'daily'"
                " AND (CAST(:day AS date) IS NULL OR trend_date = :day)"
            ),
            {"day": day},
        ).mappings()
        return {r["organization_id"]: dict(r) for r in rows}


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in FIGURES}


def run_day(
    engine: Engine,
    settings: Settings,
    day: date,
    org_id: uuid.UUID | None = None,
    trigger: str = "manual",
) -> RunSummary:
    return runs.run(JOB, [day], trigger=trigger, engine=engine, settings=settings, org_id=org_id)
