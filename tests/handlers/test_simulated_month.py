"""A simulated month (spec §7): November 2026 as the three Lambda handlers live through it.

Every day at 03:00 UTC both daily jobs are ticked, every Monday at 04:00 the weekly job, through
the real handlers with EventBridge Scheduler's event. Along the way:

- the daily ticks of 6, 7 and 8 November never arrive (a scheduler outage);
- the weekly tick of Monday 16 November never arrives;
- the trend tick of 12 November fails, with all its retries (the database refuses the rows);
- after the tick of 23 November, the bookings of territory OX7 5 for the week ending 8 November
  are cancelled (a data correction), and the operator reruns that fortnight's daily rows and
  that Sunday's weekly run through the handlers' manual events.

At the end every output table equals a clean in-order backfill of the same month on the
corrected data, and each organization received each week's alert exactly once.

Hand-built data, two organizations:
  A  OX7 4  6 confirmed every week            utilization 100: overloaded every week
  A  OX7 5  6 confirmed every week            the corrected one: overloaded but for 8 Nov
  A  OX7 6  3 confirmed + 7 rejected a week   rejection 70 with volume 10: critical every week
  B  M1 1   3 confirmed + 7 rejected a week   the same, so B too has an alert every week
  A, B      4 classifications and 1 escalation every day for the trend job
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from tests.factories import cancel_week, insert_rows, org, refusing_writes
from tests.handlers.conftest import Lambda
from tests.handlers.data import metrics_rows, trends
from tests.territory.fixture import territory
from tests.territory.test_weekly_db import _received, _subscribed_queue, aws, week

__all__ = ["aws"]  # the moto fixture, used by name

FIRST_DAY, LAST_DAY = date(2026, 11, 1), date(2026, 11, 30)
SUNDAYS = [FIRST_DAY + timedelta(weeks=i) for i in range(5)]  # 1, 8, 15, 22, 29 November
MISSED_DAILY_TICKS = {date(2026, 11, 6), date(2026, 11, 7), date(2026, 11, 8)}
MISSED_WEEKLY_TICK = date(2026, 11, 16)
FAILING_TREND_TICK = date(2026, 11, 12)
CORRECTION_AFTER = date(2026, 11, 23)
CORRECTED_SUNDAY = date(2026, 11, 8)


def _sources(engine: Engine) -> dict[str, uuid.UUID]:
    with engine.begin() as conn:
        a, b = org(conn, "Alpha Medics"), org(conn, "Beta Medics")
        territory(conn, a, "OX7 4", "South East")
        territory(conn, a, "OX7 5", "South East")
        territory(conn, a, "OX7 6", "South East")
        territory(conn, b, "M1 1", "North West")
        for sunday in SUNDAYS:
            week(conn, a, "OX7 4AA", sunday, confirmed=6)
            week(conn, a, "ox75ab", sunday, confirmed=6)
            week(conn, a, "OX7 6AA", sunday, confirmed=3, rejected=7)
            week(conn, b, "M1 1AA", sunday, confirmed=3, rejected=7)
        classifications, escalations = [], []
        for n in range((LAST_DAY - FIRST_DAY).days + 1):
            noon = datetime.combine(FIRST_DAY + timedelta(days=n), datetime.min.time(), UTC)
            noon += timedelta(hours=12)
            for organization in (a, b):
                for i, (topic, tone) in enumerate(
                    [("billing", "negative"), ("rota", "neutral"), ("pay", "positive")] * 2
                ):
                    classifications.append(
                        {
                            "organization_id": organization,
                            "channel_id": f"C{i % 2}",
                            "topic": topic,
                            "sentiment": {"tone": tone, "score": 0.1},
                            "confidence": 0.5 + i / 20,
                            "created_at": noon + timedelta(minutes=n + i),
                        }
                    )
                escalations.append(
                    {"organization_id": organization, "severity": "high", "created_at": noon}
                )
        insert_rows(conn, "topic_classifications", classifications)
        insert_rows(conn, "escalation_alerts", escalations)
    return {"A": a, "B": b}


def _tick(day: date, hour: int) -> dict[str, str]:
    return {"scheduled_time": f"{day.isoformat()}T{hour:02d}:00:00Z"}


def _deliver(lam: Lambda, function: str, event: dict[str, Any]) -> None:
    """One scheduled delivery with Lambda's two retries: the first that succeeds stops it."""
    for _ in range(3):
        try:
            lam.invoke(function, event)
            return
        except Exception:  # JobFailed: the platform would retry, then dead-letter it
            continue


def _snapshot(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return metrics_rows(engine), trends(engine)


def test_a_month_of_ticks_equals_a_clean_backfill(
    aws: Any, lambda_env: Lambda, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    engine = lambda_env.engine
    orgs = _sources(engine)
    topic = boto3.client("sns", region_name="eu-west-2").create_topic(Name="hiring")["TopicArn"]
    queue = _subscribed_queue(topic)
    monkeypatch.setenv("HIRING_ALERTS_TOPIC_ARN", topic)

    for n in range(1, (LAST_DAY - FIRST_DAY).days + 2):  # ticks of 2 November .. 1 December
        today = FIRST_DAY + timedelta(days=n)
        if today not in MISSED_DAILY_TICKS:
            _deliver(lambda_env, "daily_territory_metrics", _tick(today, 3))
            if today == FAILING_TREND_TICK:
                with refusing_writes(engine, "communication_trends", "trend_date", None):
                    _deliver(lambda_env, "daily_trend_aggregation", _tick(today, 3))
            else:
                _deliver(lambda_env, "daily_trend_aggregation", _tick(today, 3))
        if today.weekday() == 0 and today != MISSED_WEEKLY_TICK:
            _deliver(lambda_env, "weekly_hiring_triggers", _tick(today, 4))
        if today == CORRECTION_AFTER:
            cancel_week(engine, ["ox75ab"], CORRECTED_SUNDAY)
            fortnight = {
                "from": (CORRECTED_SUNDAY - timedelta(days=6)).isoformat(),
                "to": (CORRECTED_SUNDAY + timedelta(days=6)).isoformat(),
            }
            lambda_env.invoke("daily_territory_metrics", fortnight)
            lambda_env.invoke("weekly_hiring_triggers", {"date": CORRECTED_SUNDAY.isoformat()})

    with engine.connect() as conn:
        unfinished = conn.execute(
            text(
                "SELECT job, count(DISTINCT target_date) FROM job_runs WHERE status = 'succeeded'"
                " GROUP BY job ORDER BY job"
            )
        ).all()
    assert [tuple(r) for r in unfinished] == [
        ("daily-territory-metrics", 30),
        ("daily-trend-aggregation", 30),
        ("weekly-hiring-triggers", 5),
    ]
    simulated = _snapshot(engine)
    messages = [json.loads(m["Message"]) for m in _received(queue)]
    received = Counter((m["org_id"], m["week_ending"]) for m in messages)
    assert received == Counter({(str(o), s.isoformat()): 1 for o in orgs.values() for s in SUNDAYS})

    # The same month, computed once in order on the corrected data.
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE territory_metrics, communication_trends, job_runs, hiring_alerts")
        )
    for job, dates in [
        ("daily-territory-metrics", [FIRST_DAY + timedelta(days=i) for i in range(30)]),
        ("daily-trend-aggregation", [FIRST_DAY + timedelta(days=i) for i in range(30)]),
        ("weekly-hiring-triggers", SUNDAYS),
    ]:
        assert runs.run(job, dates, trigger="backfill", engine=engine, settings=settings).ok
    clean = _snapshot(engine)
    assert simulated[0] == clean[0]
    assert simulated[1] == clean[1]
    # the correction is in both: OX7 5's streak restarts after 8 November
    streak = [
        (r["metric_date"], r["hiring_trigger_weeks"])
        for r in clean[0]
        if r["postcode_sector"] == "OX7 5" and r["metric_date"] in SUNDAYS
    ]
    assert [weeks for _, weeks in streak] == [1, 0, 1, 2, 3]
