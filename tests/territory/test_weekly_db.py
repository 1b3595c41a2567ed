"""weekly-hiring-triggers against PostgreSQL: counters, idempotency, triggers, SNS (moto).

Three week-ending Sundays S1, S2, S3; a week's bookings fall inside its own 7-day window.
Org A (North West):
  H  M1 1  6 confirmed every week: utilization min(100, 600/5) = 100 > 80 -> hiring weeks 1, 2, 3
  G  L1 1  3 confirmed + 7 rejected: total 10, rejection 70.00, fulfillment 30.00, util 60.00
           -> coverage weeks 1, 2, 3 (rejection > 10 and total >= 10); hiring weeks 0
  Q  L2 2  4 confirmed: utilization 80.00, not above 80 -> hiring weeks 0, 0, 0 (warning: > 70)
  R  L3 3  6 confirmed in S1 and S3, nothing in S2 -> hiring weeks 1, 0, 1
  V  L4 4  5 pending + 1 confirmed + 3 rejected: total 9, rejection 33.33 -> coverage 0 (volume 9)
  W  L5 5  6 pending + 1 confirmed + 3 rejected: total 10, rejection 30.00, fulfillment 10.00
           -> coverage weeks 1, 2, 3
Triggers at S3: critical H high_utilization (3 weeks), G low_fulfillment, G coverage_gap,
W low_fulfillment, W coverage_gap = 5; warning Q (80%), R (100%, 1 week) = 2.
At S2: H has only 2 weeks -> warning; R has no bookings -> nothing: critical 4, warning 2.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import alerts
from tests.factories import cancel_week, org
from tests.factories import job_runs as ledger
from tests.territory.fixture import bookings, count, metrics, territory

JOB = "weekly-hiring-triggers"
S1, S2, S3 = date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 15)


@dataclass(frozen=True)
class Weeks:
    org_a: uuid.UUID
    ids: dict[str, uuid.UUID]


def week(conn: Any, org_id: uuid.UUID, postcode: str, sunday: date, **statuses: int) -> None:
    """Bookings of one territory for one week, spread over the week's window."""
    entries = []
    n = 0
    for status, how_many in statuses.items():
        for _ in range(how_many):
            entries.append((postcode, status, sunday - timedelta(days=n % 7)))
            n += 1
    bookings(conn, org_id, entries)


def build_weeks(engine: Engine) -> Weeks:
    with engine.begin() as conn:
        a = org(conn, "North Medics")
        ids = {
            "H": territory(conn, a, "M1 1", "North West"),
            "G": territory(conn, a, "L1 1", "North West", secondary=False),
            "Q": territory(conn, a, "L2 2", "North West"),
            "R": territory(conn, a, "L3 3", "North West"),
            "V": territory(conn, a, "L4 4", "North West"),
            "W": territory(conn, a, "L5 5", "North West", primary=False),
        }
        for s in (S1, S2, S3):
            week(conn, a, "m1 1aa", s, confirmed=6)
            week(conn, a, "L11AB", s, confirmed=3, rejected=7)
            week(conn, a, "L2 2AA", s, confirmed=4)
            if s != S2:
                week(conn, a, "l3 3aa", s, confirmed=6)
            week(conn, a, "L4 4AA", s, pending=5, confirmed=1, rejected=3)
            week(conn, a, "L5 5AA", s, pending=6, confirmed=1, rejected=3)
    return Weeks(a, ids)


@pytest.fixture
def weeks(db: Engine) -> Weeks:
    return build_weeks(db)


def run_weekly(engine: Engine, settings: Settings, dates: list[date], **kw: Any) -> RunSummary:
    return runs.run(JOB, dates, trigger="manual", engine=engine, settings=settings, **kw)


def counters(engine: Engine, w: Weeks, when: date) -> dict[str, tuple[int, int]]:
    rows = metrics(engine, when)
    return {
        name: (rows[tid]["hiring_trigger_weeks"], rows[tid]["coverage_gap_weeks"])
        for name, tid in w.ids.items()
        if tid in rows
    }


def trigger_keys(result: dict[str, Any], names: dict[uuid.UUID, str]) -> list[tuple[str, ...]]:
    return [
        (names[uuid.UUID(t["territory_id"])], t["trigger_type"], t["severity"])
        for t in result["triggers"]
    ]


def test_three_consecutive_weeks_reach_critical(
    weeks: Weeks, settings: Settings, db: Engine
) -> None:
    summary = run_weekly(db, settings, [S1, S2, S3])
    assert summary.ok and [r.target_date for r in summary.runs] == [S1, S2, S3]
    assert counters(db, weeks, S1) == {
        "H": (1, 0),
        "G": (0, 1),
        "Q": (0, 0),
        "R": (1, 0),
        "V": (0, 0),
        "W": (0, 1),
    }
    assert counters(db, weeks, S2) == {
        "H": (2, 0),
        "G": (0, 2),
        "Q": (0, 0),
        "R": (0, 0),
        "V": (0, 0),
        "W": (0, 2),
    }
    assert counters(db, weeks, S3) == {
        "H": (3, 0),
        "G": (0, 3),
        "Q": (0, 0),
        "R": (1, 0),
        "V": (0, 0),
        "W": (0, 3),
    }
    names = {tid: name for name, tid in weeks.ids.items()}
    s2, s3 = summary.runs[1].result, summary.runs[2].result
    assert s2["counts"] == {"critical": 4, "warning": 2, "info": 0, "total": 6}
    assert ("H", "high_utilization", "warning") in trigger_keys(s2, names)
    assert s3["counts"] == {"critical": 5, "warning": 2, "info": 0, "total": 7}
    assert trigger_keys(s3, names) == [
        # urgency: critical, then warning; within a severity the longest-running (weeks
        # active), then the furthest past its threshold (G 70% rejected: +45 points, H 100%
        # utilization: +20, W 30% rejected: +5; low fulfillment has no weeks: W 10% filled, G 30%)
        ("G", "coverage_gap", "critical"),
        ("H", "high_utilization", "critical"),
        ("W", "coverage_gap", "critical"),
        ("W", "low_fulfillment", "critical"),
        ("G", "low_fulfillment", "critical"),
        ("R", "high_utilization", "warning"),  # 1 week at S3
        ("Q", "high_utilization", "warning"),
    ]
    h = next(t for t in s3["triggers"] if names[uuid.UUID(t["territory_id"])] == "H")
    assert h["message"] == "Hire medic in North West (M1 1 sectors, 100% utilization)"
    assert (h["weeks_active"], h["metric_value"], h["threshold"]) == (3, 100.0, 80.0)
    g_gap = s3["triggers"][0]
    assert (g_gap["weeks_active"], g_gap["metric_value"]) == (3, 70.0)
    assert s3["triggers_truncated"] is False and s3["sns_messages_published"] == 0
    stats = summary.runs[2].stats
    # the weekly job computed the 6 daily rows itself; every previous week existed
    assert (stats["daily_rows_computed"], stats["counters_updated"]) == (6, 6)
    assert (stats["without_previous_week"], stats["triggers_critical"]) == (0, 5)
    # the daily figures it computed: G 10 bookings, 30.00 fulfillment, 60.00 utilization
    g = metrics(db, S3)[weeks.ids["G"]]
    assert (g["total_bookings"], g["fulfillment_rate"], g["primary_medic_utilization"]) == (
        10,
        Decimal("30.00"),
        Decimal("60.00"),
    )


def test_a_missing_previous_week_counts_as_zero(
    weeks: Weeks, settings: Settings, db: Engine
) -> None:
    summary = run_weekly(db, settings, [S3])
    assert counters(db, weeks, S3) == {
        "H": (1, 0),
        "G": (0, 1),
        "Q": (0, 0),
        "R": (1, 0),
        "V": (0, 0),
        "W": (0, 1),
    }
    assert summary.runs[0].stats["without_previous_week"] == 6
    # H is only in its first counted week: a warning, not critical
    assert summary.runs[0].result["counts"] == {"critical": 4, "warning": 3, "info": 0, "total": 7}


def test_running_a_week_twice_gives_the_same_numbers(
    weeks: Weeks, settings: Settings, db: Engine
) -> None:
    run_weekly(db, settings, [S1, S2, S3])
    first = metrics(db, S3)
    again = run_weekly(db, settings, [S3])
    assert metrics(db, S3).keys() == first.keys()
    for tid, row in metrics(db, S3).items():
        assert row == first[tid]  # counters and figures, even computed_at (rows not recomputed)
    assert again.runs[0].stats["daily_rows_computed"] == 0
    assert again.runs[0].result["counts"]["critical"] == 5
    assert count(db, "territory_metrics") == 18  # 6 territories x 3 weeks


def test_existing_daily_rows_are_used_not_recomputed(
    weeks: Weeks, settings: Settings, db: Engine
) -> None:
    runs.run("daily-territory-metrics", [S3], trigger="manual", engine=db, settings=settings)
    with db.begin() as conn:
        week(conn, weeks.org_a, "L4 4AA", S3, confirmed=1)  # after the daily run
        conn.execute(
            text("DELETE FROM territory_metrics WHERE territory_id = :t"), {"t": weeks.ids["Q"]}
        )
    summary = run_weekly(db, settings, [S3])
    assert summary.runs[0].stats["daily_rows_computed"] == 1  # only Q's missing row
    rows = metrics(db, S3)
    assert rows[weeks.ids["V"]]["total_bookings"] == 9  # the daily row as it was, not 10
    assert rows[weeks.ids["Q"]]["primary_medic_utilization"] == Decimal("80.00")


def test_org_limits_the_weekly_job_to_one_organization(
    weeks: Weeks, settings: Settings, db: Engine
) -> None:
    with db.begin() as conn:
        b = org(conn, "South Medics")
        tb = territory(conn, b, "M1 1", "North West")
        week(conn, b, "M1 1AA", S3, confirmed=6)
    summary = run_weekly(db, settings, [S3], org_id=weeks.org_a)
    rows = metrics(db, S3)
    assert tb not in rows and len(rows) == 6
    assert summary.runs[0].stats["counters_updated"] == 6
    summary = run_weekly(db, settings, [S3], org_id=b)
    assert metrics(db, S3)[tb]["hiring_trigger_weeks"] == 1
    assert summary.runs[0].stats["counters_updated"] == 1
    # org A's counters were not touched again: H is still at 1 (S3 alone, no S2 row)
    assert counters(db, weeks, S3)["H"] == (1, 0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }.items():
        monkeypatch.setenv(key, value)
    alerts.sns_client.cache_clear()
    with mock_aws():
        yield
    alerts.sns_client.cache_clear()


def _subscribed_queue(topic_arn: str) -> str:
    sqs = boto3.client("sqs", region_name="eu-west-2")
    sns = boto3.client("sns", region_name="eu-west-2")
    queue_url = sqs.create_queue(QueueName="hiring")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


def _received(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="eu-west-2")
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_critical_triggers_go_to_sns_one_message_per_organization(
    aws: Any, weeks: Weeks, settings: Settings, db: Engine
) -> None:
    with db.begin() as conn:
        b = org(conn, "South Medics")
        tb = territory(conn, b, "M1 1", "North West")
        tb2 = territory(conn, b, "M2 2", "North West")  # 80% -> a warning, not sent
        for s in (S1, S2, S3):
            week(conn, b, "M1 1AA", s, confirmed=5)
            week(conn, b, "M2 2AA", s, completed=3, confirmed=1)
    topic = boto3.client("sns", region_name="eu-west-2").create_topic(Name="hiring")["TopicArn"]
    queue = _subscribed_queue(topic)
    with_topic = replace(settings, hiring_alerts_topic_arn=topic)
    run_weekly(db, settings, [S1, S2])  # no topic: nothing sent
    assert _received(queue) == []
    summary = run_weekly(db, with_topic, [S3])
    assert summary.ok and summary.runs[0].result["sns_messages_published"] == 2
    messages = {json.loads(m["Message"])["org_id"]: m for m in _received(queue)}
    assert set(messages) == {str(weeks.org_a), str(b)}
    body_a = json.loads(messages[str(weeks.org_a)]["Message"])
    assert (body_a["critical_triggers"], body_a["week_ending"]) == (5, "2026-03-15")
    assert {t["severity"] for t in body_a["triggers"]} == {"critical"}
    body_b = json.loads(messages[str(b)]["Message"])
    assert [(t["territory_id"], t["weeks_active"]) for t in body_b["triggers"]] == [(str(tb), 3)]
    assert str(tb2) not in messages[str(b)]["Message"]
    assert messages[str(b)]["Subject"] == "1 critical hiring trigger, week ending 2026-03-15"
    attrs = messages[str(b)]["MessageAttributes"]
    assert attrs["dedupe_key"]["Value"].startswith(f"{b}:2026-03-15:")


def test_an_sns_failure_makes_the_run_partial_and_keeps_the_counters(
    aws: Any, weeks: Weeks, settings: Settings, db: Engine
) -> None:
    missing_topic = "arn:aws:sns:eu-west-2:123456789012:no-such-topic"
    summary = run_weekly(db, replace(settings, hiring_alerts_topic_arn=missing_topic), [S3])
    assert summary.status == "partial"
    assert summary.runs[0].stats["failed_organizations"] == [str(weeks.org_a)]
    assert counters(db, weeks, S3)["G"] == (0, 1)  # committed all the same
    assert [r["status"] for r in ledger(db)] == ["partial"]


def _alerts(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM hiring_alerts ORDER BY week_ending, org_id, recorded_at")
        ).mappings()
        return [dict(r) for r in rows]


def test_reruns_of_a_week_publish_its_alert_once(
    aws: Any, weeks: Weeks, settings: Settings, db: Engine
) -> None:
    topic = boto3.client("sns", region_name="eu-west-2").create_topic(Name="hiring")["TopicArn"]
    queue = _subscribed_queue(topic)
    with_topic = replace(settings, hiring_alerts_topic_arn=topic)
    published = []
    for _ in range(4):
        summary = run_weekly(db, with_topic, [S3])
        assert summary.ok
        published.append(summary.runs[0].stats["sns_messages_published"])
    assert published == [1, 0, 0, 0]
    received = [json.loads(m["Message"])["week_ending"] for m in _received(queue)]
    assert received == ["2026-03-15"]
    [row] = _alerts(db)
    assert (row["week_ending"], row["critical_triggers"]) == (S3, 4)  # G and W: 2 each; H: 1 week
    assert row["published_at"] is not None and row["message_id"]


def test_a_failed_publish_is_retried_by_the_next_run_and_sent_once(
    aws: Any, weeks: Weeks, settings: Settings, db: Engine
) -> None:
    topic = "arn:aws:sns:eu-west-2:123456789012:hiring"
    run_weekly(db, settings, [S1, S2])  # no topic: nothing recorded
    assert _alerts(db) == []
    summary = run_weekly(db, replace(settings, hiring_alerts_topic_arn=topic), [S3])
    assert summary.status == "partial"  # the topic does not exist yet
    [unsent] = _alerts(db)
    assert (unsent["week_ending"], unsent["published_at"]) == (S3, None)
    boto3.client("sns", region_name="eu-west-2").create_topic(Name="hiring")
    queue = _subscribed_queue(topic)
    for _ in range(2):
        assert run_weekly(db, replace(settings, hiring_alerts_topic_arn=topic), [S3]).ok
    assert len(_received(queue)) == 1
    [sent] = _alerts(db)
    assert sent["content_hash"] == unsent["content_hash"] and sent["published_at"] is not None


def test_recomputed_later_weeks_never_publish_and_corrections_do(
    aws: Any, weeks: Weeks, settings: Settings, db: Engine
) -> None:
    topic = boto3.client("sns", region_name="eu-west-2").create_topic(Name="hiring")["TopicArn"]
    queue = _subscribed_queue(topic)
    with_topic = replace(settings, hiring_alerts_topic_arn=topic)
    assert run_weekly(db, with_topic, [S1, S2, S3]).ok
    assert len(_received(queue)) == 3
    # A correction in S2: H's and G's weeks are cancelled. Rerunning S2 recomputes S3's counters
    # (H from 3 weeks to 1: no longer critical at S3) but only S2's own alert, whose content
    # changed (G's two critical triggers are gone), goes out again.
    cancel_week(db, ["m1 1aa", "L11AB"], S2)
    runs.run("daily-territory-metrics", [S2], trigger="manual", engine=db, settings=settings)
    summary = run_weekly(db, with_topic, [S2])
    assert summary.ok and summary.runs[0].stats["weeks_recomputed"] == 1
    assert counters(db, weeks, S3)["H"] == (1, 0) and counters(db, weeks, S3)["G"] == (0, 1)
    messages = [json.loads(m["Message"]) for m in _received(queue)]
    assert [(m["week_ending"], m["critical_triggers"]) for m in messages] == [("2026-03-08", 2)]
    weeks_alerted = [r["week_ending"] for r in _alerts(db)]
    assert weeks_alerted.count(S2) == 2 and weeks_alerted.count(S3) == 1
