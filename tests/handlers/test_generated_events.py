"""The classic scheduled event exactly as `sam local generate-event` writes it (with its time
set to a tick) fed to each job handler against a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.handlers import data
from tests.handlers.conftest import Lambda
from tests.infra.samcli import run_sam

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated_event() -> dict[str, Any]:
    done = run_sam(
        "local", "generate-event", "cloudwatch", "scheduled-event", "--region", "eu-west-2"
    )
    event: dict[str, Any] = json.loads(done.stdout)
    assert event["detail-type"] == "Scheduled Event"
    return event


@pytest.mark.parametrize(
    ("function", "tick", "target"),
    [
        # daily jobs: the day before the tick's UTC date
        ("daily_territory_metrics", "2026-11-23T03:00:00Z", date(2026, 11, 22)),
        ("daily_trend_aggregation", "2026-11-23T03:00:00Z", date(2026, 11, 22)),
        # weekly: Monday's tick -> the Sunday before
        ("weekly_hiring_triggers", "2026-11-23T04:00:00Z", date(2026, 11, 22)),
    ],
)
def test_generated_scheduled_event(
    lambda_env: Lambda, generated_event: dict[str, Any], function: str, tick: str, target: date
) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
        data.trend_sources(conn)
    event = {**generated_event, "time": tick}

    result = lambda_env.invoke(function, event)

    assert result["status"] == "succeeded"
    assert [(r["target_date"], r["trigger"]) for r in data.job_runs(lambda_env.engine)] == [
        (target, "schedule")
    ]
    # a duplicate delivery of the same tick targets the same date
    again = lambda_env.invoke(function, event)
    assert [r["target_date"] for r in again["runs"]] == [target.isoformat()]


def test_generated_event_without_time_is_refused(
    lambda_env: Lambda, generated_event: dict[str, Any]
) -> None:
    from opsmetrics.errors import BadRequest

    event = {k: v for k, v in generated_event.items() if k != "time"}
    with pytest.raises(BadRequest, match="has no 'time'"):
        lambda_env.invoke("daily_trend_aggregation", event)
    assert data.job_runs(lambda_env.engine) == []
