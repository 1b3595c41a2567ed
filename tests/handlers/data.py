"""Small hand-computed source data for the handler tests, and readers of what the jobs wrote.

The sample events (infra/events) tick on Monday 2026-11-23, so the scheduled targets are
2026-11-22 (daily jobs: the day before) and Sunday 2026-11-22 (weekly: the Sunday before).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from tests.factories import insert_rows, org
from tests.factories import job_runs as shared_job_runs

D = date(2026, 11, 22)


def trend_sources(conn: Connection) -> dict[str, uuid.UUID]:
    """Acme: three classifications and one alert on D; Quiet: none (a zero row).

    Acme on D: billing/neutral/0.5, complaint/negative/0.9, complaint/negative/no confidence,
    plus one alert 'high'; one classification at 23:59:59 the day before and one at 00:00 the
    day after, both outside D.
    """
    acme, quiet = org(conn, "Acme"), org(conn, "Quiet")
    rows = [
        ("billing", {"tone": "neutral", "score": 0.0}, 0.5, "2026-11-22T00:00:00+00:00"),
        ("complaint", {"tone": "negative", "score": -0.6}, 0.9, "2026-11-22T12:00:00+00:00"),
        ("complaint", {"tone": "negative", "score": -0.4}, None, "2026-11-22T23:59:59+00:00"),
        ("praise", {"tone": "positive", "score": 0.9}, 0.1, "2026-11-21T23:59:59+00:00"),
        ("praise", {"tone": "positive", "score": 0.9}, 0.1, "2026-11-23T00:00:00+00:00"),
    ]
    insert_rows(
        conn,
        "topic_classifications",
        [
            {
                "id": uuid.uuid4(),
                "organization_id": acme,
                "channel_id": "C1",
                "topic": topic,
                "sentiment": sentiment,
                "confidence": confidence,
                "created_at": at,
            }
            for topic, sentiment, confidence, at in rows
        ],
    )
    insert_rows(
        conn,
        "escalation_alerts",
        [
            {
                "id": uuid.uuid4(),
                "organization_id": acme,
                "severity": "high",
                "created_at": "2026-11-22T10:00:00+00:00",
            }
        ],
    )
    return {"acme": acme, "quiet": quiet}


def territory_sources(conn: Connection) -> dict[str, uuid.UUID]:
    """One organization, two territories; bookings only in SW1A 1.

    SW1A 1 in the window of D (2026-11-16..22): 5 confirmed, 1 completed, 2 rejected,
    2 pending, 1 cancelled (typed in several spellings); outside it: 1 confirmed on 2026-11-15
    and 1 on 2026-11-23. M1 4 has none.
    """
    acme = org(conn, "Acme")
    medic = uuid.uuid4()
    insert_rows(conn, "medics", [{"id": medic, "org_id": acme, "full_name": "A. Medic"}])
    sw1a, m14 = uuid.uuid4(), uuid.uuid4()
    insert_rows(
        conn,
        "territories",
        [
            {
                "id": sw1a,
                "org_id": acme,
                "postcode_sector": "SW1A 1",
                "region": "London",
                "primary_medic_id": medic,
            },
            {
                "id": m14,
                "org_id": acme,
                "postcode_sector": "M1 4",
                "region": "North West",
                "primary_medic_id": None,
            },
        ],
    )
    spellings = ["SW1A 1AA", " sw1a1ab ", "Sw1A 1aa"]
    statuses = ["confirmed"] * 5 + ["completed", "rejected", "rejected", "pending", "pending"]
    statuses.append("cancelled")
    bookings = [
        (spellings[i % 3], date(2026, 11, 16 + i % 7), status) for i, status in enumerate(statuses)
    ]
    bookings += [("SW1A 1AA", date(2026, 11, 15), "confirmed")]
    bookings += [("SW1A 1AA", date(2026, 11, 23), "confirmed")]
    insert_rows(
        conn,
        "bookings",
        [
            {
                "id": uuid.uuid4(),
                "org_id": acme,
                "site_postcode": postcode,
                "shift_date": day,
                "status": status,
                "medic_id": medic,
            }
            for postcode, day, status in bookings
        ],
    )
    return {"acme": acme, "sw1a": sw1a, "m14": m14}


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def job_runs(engine: Engine) -> list[dict[str, Any]]:
    return shared_job_runs(engine, order="target_date, started_at")


def trends(engine: Engine) -> list[dict[str, Any]]:
    """communication_trends without the timestamps, in a stable order."""
    return rows(
        engine,
        "SELECT o.name, t.trend_date, t.trend_period, t.topic_distribution,"
        " t.sentiment_distribution, t.escalation_counts, t.channel_hotspots,"
        " t.total_classifications, t.avg_confidence"
        " FROM communication_trends t JOIN organizations o ON o.id = t.organization_id"
        " ORDER BY t.trend_date, o.name",
    )


def metrics_rows(engine: Engine) -> list[dict[str, Any]]:
    """territory_metrics without computed_at, in a stable order."""
    return rows(
        engine,
        "SELECT postcode_sector, metric_date, total_bookings, confirmed_bookings,"
        " rejected_bookings, rejection_rate, fulfillment_rate, primary_medic_utilization,"
        " hiring_trigger_weeks, coverage_gap_weeks"
        " FROM territory_metrics ORDER BY metric_date, postcode_sector",
    )
