"""A small hand-made world for the HTTP tests: two organizations with output rows whose report
figures are worked out by hand in the tests.

Organization A (4 territories) and B (2) share the sector SW1A 1. Metric date D = 2026-11-22, a
Sunday, so the weekly reports read it too.

A at D (total, confirmed, rejected, rejection %, fulfillment %, utilization %, hiring weeks,
gap weeks, primary?, secondary?):
  SW1A 1  London      20 17 3  15.00  85.00 100.00  3 2  yes yes
  EC1V 9  London      12  8 4  33.33  66.67 100.00  1 1  yes no
  M1 4    North West   4  1 2  50.00  25.00  20.00  0 0  no  no
  M2 1    North West   0  0 0  NULL   NULL    0.00  0 0  yes no
B at D:
  SW1A 1  London      10  6 4  40.00  60.00 100.00  0 0  no  no
  B15 2   West Midl.   0  0 0  NULL   NULL    0.00  0 0  no  no
A at D-7 (only SW1A 1 and EC1V 9): 5 5 0 0.00 100.00 100.00 weeks 2 1 / 4 4 0 ... weeks 4 0.
Trends: A on D-1 (3 classifications) and D (10); B on D (7).
The ledger (job_runs, RUNS): each job succeeded, for every organization, on the dates above, at
03:00:12 UTC the next day (the weekly job at 04:00:12), so reports without a date read D.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from tests.factories import insert_rows, org, record_run

D = date(2026, 11, 22)  # a Sunday
WEEK_BEFORE = D - timedelta(days=7)
NEXT_DAY = D + timedelta(days=1)  # a Monday, for the daily job's refresh


@dataclass
class World:
    org_a: uuid.UUID
    org_b: uuid.UUID
    territories: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)  # (org, sector)
    run_ids: set[uuid.UUID] = field(default_factory=set)  # the job_runs rows of RUNS

    def tid(self, who: str, sector: str) -> uuid.UUID:
        return self.territories[(who, sector)]

    def ids_of(self, who: str) -> set[str]:
        return {str(t) for (o, _), t in self.territories.items() if o == who}


_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def finished(day: date, hour: int = 3) -> datetime:
    """When the world's run of `day` finished: the next day at hour:00:12 UTC."""
    return datetime(day.year, day.month, day.day, hour, 0, 12, tzinfo=UTC) + timedelta(days=1)


# (job, date, finished_at): the succeeded runs behind the world's output rows.
RUNS = [
    ("daily-territory-metrics", WEEK_BEFORE, finished(WEEK_BEFORE)),
    ("daily-territory-metrics", D, finished(D)),
    ("weekly-hiring-triggers", WEEK_BEFORE, finished(WEEK_BEFORE, 4)),
    ("weekly-hiring-triggers", D, finished(D, 4)),
    ("daily-trend-aggregation", D - timedelta(days=1), finished(D - timedelta(days=1))),
    ("daily-trend-aggregation", D, finished(D)),
]


def _metric(
    world: World,
    who: str,
    sector: str,
    day: date,
    counts: tuple[int, int, int],
    rates: tuple[str | None, str | None, str],
    weeks: tuple[int, int],
) -> dict[str, Any]:
    total, confirmed, rejected = counts
    rejection, fulfillment, utilization = rates
    return {
        "territory_id": world.tid(who, sector),
        "org_id": world.org_a if who == "A" else world.org_b,
        "postcode_sector": sector,
        "metric_date": day,
        "total_bookings": total,
        "confirmed_bookings": confirmed,
        "rejected_bookings": rejected,
        "rejection_rate": Decimal(rejection) if rejection is not None else None,
        "fulfillment_rate": Decimal(fulfillment) if fulfillment is not None else None,
        "primary_medic_utilization": Decimal(utilization),
        "hiring_trigger_weeks": weeks[0],
        "coverage_gap_weeks": weeks[1],
        "computed_at": _NOW,
    }


def load(conn: Connection) -> World:
    world = World(org(conn, "Acme Medics"), org(conn, "Beta Care"))
    medics = {f"m{i}": uuid.uuid4() for i in range(1, 5)}
    insert_rows(
        conn,
        "medics",
        [
            {"id": m, "org_id": world.org_a, "full_name": f"Medic {name}", "active": True}
            for name, m in medics.items()
        ],
    )
    plan = [
        # who, sector, region, primary, secondary
        ("A", "SW1A 1", "London", medics["m1"], medics["m2"]),
        ("A", "EC1V 9", "London", medics["m3"], None),
        ("A", "M1 4", "North West", None, None),
        ("A", "M2 1", "North West", medics["m4"], None),
        ("B", "SW1A 1", "London", None, None),
        ("B", "B15 2", "West Midlands", None, None),
    ]
    rows = []
    for who, sector, region, primary, secondary in plan:
        tid = uuid.uuid4()
        world.territories[(who, sector)] = tid
        rows.append(
            {
                "id": tid,
                "org_id": world.org_a if who == "A" else world.org_b,
                "postcode_sector": sector,
                "region": region,
                "primary_medic_id": primary,
                "secondary_medic_id": secondary,
            }
        )
    insert_rows(conn, "territories", rows)
    insert_rows(
        conn,
        "territory_metrics",
        [
            _metric(world, "A", "SW1A 1", D, (20, 17, 3), ("15.00", "85.00", "100.00"), (3, 2)),
            _metric(world, "A", "EC1V 9", D, (12, 8, 4), ("33.33", "66.67", "100.00"), (1, 1)),
            _metric(world, "A", "M1 4", D, (4, 1, 2), ("50.00", "25.00", "20.00"), (0, 0)),
            _metric(world, "A", "M2 1", D, (0, 0, 0), (None, None, "0.00"), (0, 0)),
            _metric(world, "B", "SW1A 1", D, (10, 6, 4), ("40.00", "60.00", "100.00"), (0, 0)),
            _metric(world, "B", "B15 2", D, (0, 0, 0), (None, None, "0.00"), (0, 0)),
            _metric(
                world, "A", "SW1A 1", WEEK_BEFORE, (5, 5, 0), ("0.00", "100.00", "100.00"), (2, 1)
            ),
            _metric(
                world, "A", "EC1V 9", WEEK_BEFORE, (4, 4, 0), ("0.00", "100.00", "80.00"), (4, 0)
            ),
        ],
    )
    trend = {
        "trend_period": "daily",
        "created_at": _NOW,
        "updated_at": _NOW,
    }
    insert_rows(
        conn,
        "communication_trends",
        [
            {
                "organization_id": world.org_a,
                "trend_date": D - timedelta(days=1),
                **trend,
                "topic_distribution": {"scheduling": 3},
                "sentiment_distribution": {"neutral": 3},
                "escalation_counts": {"low": 1},
                "channel_hotspots": [],
                "total_classifications": 3,
                "avg_confidence": 0.5,
            },
            {
                "organization_id": world.org_a,
                "trend_date": D,
                **trend,
                "topic_distribution": {"complaint": 6, "billing": 4},
                "sentiment_distribution": {"negative": 5, "neutral": 3, "positive": 2},
                "escalation_counts": {"high": 2, "low": 1},
                "channel_hotspots": [{"channelId": "C0A1", "riskScore": 60, "messageCount": 10}],
                "total_classifications": 10,
                "avg_confidence": 0.8,
            },
            {
                "organization_id": world.org_b,
                "trend_date": D,
                **trend,
                "topic_distribution": {"praise": 7},
                "sentiment_distribution": {"positive": 7},
                "escalation_counts": {},
                "channel_hotspots": [],
                "total_classifications": 7,
                "avg_confidence": 0.9,
            },
        ],
    )
    world.run_ids = {record_run(conn, job, day, finished_at=at) for job, day, at in RUNS}
    return world
