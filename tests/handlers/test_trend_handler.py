"""functions/daily_trend_aggregation/app.py against a real PostgreSQL: every sample event, a
duplicate delivery, bad events, and a partial run failing the invocation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from opsmetrics.errors import BadRequest
from opsmetrics.lambda_jobs import JobFailed
from tests.factories import refusing_writes
from tests.handlers import data
from tests.handlers.conftest import Lambda, event_names, load_event

FUNCTION = "daily_trend_aggregation"
JOB = "daily-trend-aggregation"
NOV = [date(2026, 11, d) for d in range(1, 31)]

# Per sample event: the dates it must run for and the trigger it must be recorded with.
EXPECTED: dict[str, tuple[list[date], str]] = {
    "scheduler": ([date(2026, 11, 22)], "schedule"),  # tick 2026-11-23T03:00Z, day before
    "scheduled-rule": ([date(2026, 11, 22)], "schedule"),  # same tick, classic shape
    "manual-date": ([date(2026, 11, 20)], "manual"),
    "backfill-range": ([date(2026, 11, 16) + timedelta(days=i) for i in range(7)], "backfill"),
}


def test_every_sample_event_is_covered() -> None:
    assert event_names(FUNCTION) == sorted(EXPECTED)


def acme_row_on_d() -> dict[str, Any]:
    # Acme on 2026-11-22 (see data.trend_sources): topics billing 1, complaint 2; tones neutral 1,
    # negative 2; one 'high' alert; 3 classifications; mean confidence (0.5 + 0.9) / 2 = 0.7.
    return {
        "name": "Acme",
        "trend_date": data.D,
        "trend_period": "daily",
        "topic_distribution": {"billing": 1, "complaint": 2},
        "sentiment_distribution": {"neutral": 1, "negative": 2},
        "escalation_counts": {"high": 1},
        "channel_hotspots": [],
        "total_classifications": 3,
        "avg_confidence": pytest.approx(0.7),
    }


def quiet_row(day: date) -> dict[str, Any]:
    return {
        "name": "Quiet",
        "trend_date": day,
        "trend_period": "daily",
        "topic_distribution": {},
        "sentiment_distribution": {},
        "escalation_counts": {},
        "channel_hotspots": [],
        "total_classifications": 0,
        "avg_confidence": None,
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_event(lambda_env: Lambda, name: str) -> None:
    engine = lambda_env.engine
    with engine.begin() as conn:
        data.trend_sources(conn)
    dates, trigger = EXPECTED[name]

    result = lambda_env.invoke(FUNCTION, load_event(FUNCTION, name))

    assert result["job"] == JOB
    assert result["status"] == "succeeded"
    assert [r["target_date"] for r in result["runs"]] == [d.isoformat() for d in dates]
    ledger = data.job_runs(engine)
    assert [(r["target_date"], r["trigger"], r["status"]) for r in ledger] == [
        (d, trigger, "succeeded") for d in dates
    ]
    written = data.trends(engine)
    # two organizations, one row each per date
    assert [(r["name"], r["trend_date"]) for r in written] == [
        (n, d) for d in dates for n in ("Acme", "Quiet")
    ]
    for run in result["runs"]:
        assert run["result"]["organizations_processed"] == 2
        assert run["result"]["trends_created"] + run["stats"]["trends_replaced"] == 2
    if data.D in dates:
        assert [r for r in written if r["trend_date"] == data.D] == [
            acme_row_on_d(),
            quiet_row(data.D),
        ]
    out = lambda_env.outputs()
    # EMF: one rows_written value of 2 per date, and the cold start of this first invocation
    assert out.metric(f"{JOB}.rows_written") == [2] * len(dates)
    assert out.metric(f"{JOB}.organizations_failed") == [0] * len(dates)
    assert out.metric(f"{JOB}.succeeded") == [1] * len(dates)
    assert out.metric("ColdStart") == [1]
    finished = [line for line in out.logs if line.get("message") == "job finished"]
    assert [line["target_date"] for line in finished] == [d.isoformat() for d in dates]
    assert all(line["cold_start"] is True for line in finished)
    assert [line["run_id"] for line in finished] == [r["run_id"] for r in result["runs"]]


def test_duplicate_delivery_gives_the_same_rows(lambda_env: Lambda) -> None:
    engine = lambda_env.engine
    with engine.begin() as conn:
        data.trend_sources(conn)
    event = load_event(FUNCTION, "scheduler")

    first = lambda_env.invoke(FUNCTION, event)
    after_first = data.trends(engine)
    second = lambda_env.invoke(FUNCTION, event)

    assert after_first == data.trends(engine) == [acme_row_on_d(), quiet_row(data.D)]
    assert first["runs"][0]["target_date"] == second["runs"][0]["target_date"] == "2026-11-22"
    # the second delivery replaced both rows instead of adding any
    assert second["runs"][0]["stats"]["trends_replaced"] == 2
    assert [(r["target_date"], r["status"]) for r in data.job_runs(engine)] == [
        (data.D, "succeeded"),
        (data.D, "succeeded"),
    ]
    out = lambda_env.outputs()
    assert out.metric("ColdStart") == [1]  # only the first invocation is a cold start


BAD_EVENTS: list[Any] = [
    {},
    {"scheduled_time": "2026-11-23T03:00:00"},  # no time zone
    {"scheduled_time": "2026-11-23T03:00:00Z", "date": "2026-11-20"},
    {"detail-type": "Scheduled Event", "source": "aws.events"},  # no time
    {"detail-type": "EC2 Instance State-change Notification", "time": "2026-11-23T03:00:00Z"},
    {"date": "2026-02-30"},
    {"from": "2026-11-22", "to": "2026-11-16"},
    ["2026-11-22"],
    "2026-11-22",
]


@pytest.mark.parametrize("event", BAD_EVENTS, ids=[repr(e)[:40] for e in BAD_EVENTS])
def test_bad_event_is_refused_and_writes_nothing(lambda_env: Lambda, event: Any) -> None:
    engine = lambda_env.engine
    with engine.begin() as conn:
        data.trend_sources(conn)

    with pytest.raises(BadRequest):
        lambda_env.invoke(FUNCTION, event)

    assert data.job_runs(engine) == []
    assert data.trends(engine) == []
    out = lambda_env.outputs()
    assert out.metric(f"{JOB}.rejected_events") == [1]
    refused = [line for line in out.logs if line.get("message") == "event refused"]
    assert len(refused) == 1
    assert refused[0]["level"] == "ERROR"
    assert refused[0]["job"] == JOB


def test_partial_run_fails_the_invocation(lambda_env: Lambda) -> None:
    engine = lambda_env.engine
    with engine.begin() as conn:
        orgs = data.trend_sources(conn)

    with (
        refusing_writes(engine, "communication_trends", "organization_id", orgs["acme"]),
        pytest.raises(JobFailed) as caught,
    ):
        lambda_env.invoke(FUNCTION, load_event(FUNCTION, "scheduler"))

    message = str(caught.value)
    assert message == f"{JOB} partial: 2026-11-22 partial (1 organization(s) failed)"
    assert caught.value.summary["status"] == "partial"
    ledger = data.job_runs(engine)
    assert [(r["target_date"], r["status"]) for r in ledger] == [(data.D, "partial")]
    assert ledger[0]["stats"]["failed_organizations"] == [str(orgs["acme"])]
    # the other organization's row was still written
    assert data.trends(engine) == [quiet_row(data.D)]
    out = lambda_env.outputs()
    assert out.metric(f"{JOB}.organizations_failed") == [1]
    assert out.metric(f"{JOB}.partial") == [1]
    assert [line["level"] for line in out.logs if line.get("message") == "invocation failed"] == [
        "ERROR"
    ]


def test_failed_date_stops_a_backfill_and_fails_the_invocation(lambda_env: Lambda) -> None:
    engine = lambda_env.engine
    with engine.begin() as conn:
        data.trend_sources(conn)
    # a table the job reads disappears: every date would fail; the first stops the loop
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE escalation_alerts RENAME TO escalation_alerts_gone")
    try:
        with pytest.raises(JobFailed) as caught:
            lambda_env.invoke(FUNCTION, {"from": "2026-11-20", "to": "2026-11-22"})
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE escalation_alerts_gone RENAME TO escalation_alerts")

    summary = caught.value.summary
    assert [r["status"] for r in summary["runs"]] == ["failed", "skipped", "skipped"]
    assert str(caught.value).startswith(f"{JOB} failed: 2026-11-20 failed (")
    assert str(caught.value).endswith("; 2 later date(s) skipped")
    assert [(r["target_date"], r["status"]) for r in data.job_runs(engine)] == [
        (date(2026, 11, 20), "failed")
    ]
    assert data.trends(engine) == []
