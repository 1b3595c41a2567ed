"""functions/daily_territory_metrics and functions/weekly_hiring_triggers against a real
PostgreSQL: every sample event, duplicate deliveries, bad events, a failed run.

Figures for SW1A 1 (see data.territory_sources), worked out by hand:
- metric date 2026-11-22, window 11-16..11-22: pending 2 + confirmed 5 + completed 1 +
  rejected 2 = 10 counted (the cancelled one is not); confirmed 6; rejected 2;
  rejection 100*2/10 = 20.00; fulfillment 100*6/10 = 60.00; utilization min(100, 100*6/5) = 100;
- metric date 2026-11-20, window 11-14..11-20: bookings on days 16..20 are i = 0..4
  (confirmed), 7 (rejected), 8, 9 (pending), 10 (cancelled), plus the confirmed one of 11-15:
  counted 6 + 1 + 2 = 9; confirmed 6; rejected 1; rejection 100/9 = 11.11; fulfillment
  600/9 = 66.67; utilization 100.
M1 4 has no bookings: zero counts, NULL rates, utilization 0.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from opsmetrics.errors import BadRequest
from opsmetrics.lambda_jobs import JobFailed
from tests.factories import org, refusing_writes
from tests.handlers import data
from tests.handlers.conftest import Lambda, event_names, load_event

DAILY_FN, DAILY = "daily_territory_metrics", "daily-territory-metrics"
WEEKLY_FN, WEEKLY = "weekly_hiring_triggers", "weekly-hiring-triggers"

DAILY_EXPECTED: dict[str, tuple[list[date], str]] = {
    "scheduler": ([date(2026, 11, 22)], "schedule"),  # tick Monday 2026-11-23 03:00Z
    "scheduled-rule": ([date(2026, 11, 22)], "schedule"),
    "manual-date": ([date(2026, 11, 20)], "manual"),
    "backfill-range": ([date(2026, 11, 16) + timedelta(days=i) for i in range(7)], "backfill"),
}
WEEKLY_EXPECTED: dict[str, tuple[list[date], str]] = {
    "scheduler": ([date(2026, 11, 22)], "schedule"),  # tick Monday 04:00Z -> Sunday before
    "scheduled-rule": ([date(2026, 11, 22)], "schedule"),
    "manual-date": ([date(2026, 11, 15)], "manual"),
    # the Sundays of 2026-11-01..22
    "backfill-range": ([date(2026, 11, d) for d in (1, 8, 15, 22)], "backfill"),
}


def sw1a(day: date, **weeks: int) -> dict[str, Any]:
    figures = {
        date(2026, 11, 22): (10, 6, 2, "20.00", "60.00"),
        date(2026, 11, 20): (9, 6, 1, "11.11", "66.67"),
    }[day]
    total, confirmed, rejected, rejection, fulfillment = figures
    return {
        "postcode_sector": "SW1A 1",
        "metric_date": day,
        "total_bookings": total,
        "confirmed_bookings": confirmed,
        "rejected_bookings": rejected,
        "rejection_rate": Decimal(rejection),
        "fulfillment_rate": Decimal(fulfillment),
        "primary_medic_utilization": Decimal("100.00"),
        "hiring_trigger_weeks": weeks.get("hiring", 0),
        "coverage_gap_weeks": weeks.get("gap", 0),
    }


def m14(day: date) -> dict[str, Any]:
    return {
        "postcode_sector": "M1 4",
        "metric_date": day,
        "total_bookings": 0,
        "confirmed_bookings": 0,
        "rejected_bookings": 0,
        "rejection_rate": None,
        "fulfillment_rate": None,
        "primary_medic_utilization": Decimal("0.00"),
        "hiring_trigger_weeks": 0,
        "coverage_gap_weeks": 0,
    }


def test_every_sample_event_is_covered() -> None:
    assert event_names(DAILY_FN) == sorted(DAILY_EXPECTED)
    assert event_names(WEEKLY_FN) == sorted(WEEKLY_EXPECTED)


@pytest.mark.parametrize("name", sorted(DAILY_EXPECTED))
def test_daily_sample_event(lambda_env: Lambda, name: str) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
    dates, trigger = DAILY_EXPECTED[name]

    result = lambda_env.invoke(DAILY_FN, load_event(DAILY_FN, name))

    assert (result["job"], result["status"]) == (DAILY, "succeeded")
    ledger = data.job_runs(lambda_env.engine)
    assert [(r["target_date"], r["trigger"], r["status"]) for r in ledger] == [
        (d, trigger, "succeeded") for d in dates
    ]
    written = data.metrics_rows(lambda_env.engine)
    # both territories get a row for every date ("M1 4" sorts before "SW1A 1")
    assert [(r["metric_date"], r["postcode_sector"]) for r in written] == [
        (d, s) for d in dates for s in ("M1 4", "SW1A 1")
    ]
    for day in set(dates) & {date(2026, 11, 20), date(2026, 11, 22)}:
        assert [r for r in written if r["metric_date"] == day] == [m14(day), sw1a(day)]
    assert lambda_env.outputs().metric(f"{DAILY}.rows_written") == [2] * len(dates)


def test_daily_duplicate_delivery_gives_the_same_rows(lambda_env: Lambda) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
    event = load_event(DAILY_FN, "scheduled-rule")

    lambda_env.invoke(DAILY_FN, event)
    first = data.metrics_rows(lambda_env.engine)
    lambda_env.invoke(DAILY_FN, event)

    assert first == data.metrics_rows(lambda_env.engine) == [m14(data.D), sw1a(data.D)]
    assert [r["status"] for r in data.job_runs(lambda_env.engine)] == ["succeeded", "succeeded"]


@pytest.mark.parametrize("name", sorted(WEEKLY_EXPECTED))
def test_weekly_sample_event(lambda_env: Lambda, name: str) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
    dates, trigger = WEEKLY_EXPECTED[name]

    result = lambda_env.invoke(WEEKLY_FN, load_event(WEEKLY_FN, name))

    assert (result["job"], result["status"]) == (WEEKLY, "succeeded")
    assert [(r["target_date"], r["trigger"]) for r in data.job_runs(lambda_env.engine)] == [
        (d, trigger) for d in dates
    ]
    assert [r["result"]["week_ending"] for r in result["runs"]] == [d.isoformat() for d in dates]
    written = data.metrics_rows(lambda_env.engine)
    # the weekly job computes the daily rows of each Sunday it needs
    assert sorted({r["metric_date"] for r in written}) == dates
    if data.D in dates:
        # S = 11-22: utilization 100 > 80 and rejection 20 > 10 with 10 bookings; the week
        # before (11-15: 1 booking, utilization 20) counted 0 or had no row: both counters 1.
        assert [r for r in written if r["metric_date"] == data.D] == [
            m14(data.D),
            sw1a(data.D, hiring=1, gap=1),
        ]


def test_weekly_duplicate_delivery_keeps_the_counters(lambda_env: Lambda) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
    event = load_event(WEEKLY_FN, "scheduler")

    first = lambda_env.invoke(WEEKLY_FN, event)
    rows_after_first = data.metrics_rows(lambda_env.engine)
    second = lambda_env.invoke(WEEKLY_FN, event)

    # counted once, not twice: 0 (no row for 11-15) + 1
    assert rows_after_first == data.metrics_rows(lambda_env.engine)
    assert rows_after_first == [m14(data.D), sw1a(data.D, hiring=1, gap=1)]
    assert first["runs"][0]["result"]["triggers"] == second["runs"][0]["result"]["triggers"]


@pytest.mark.parametrize(
    ("function", "event", "message"),
    [
        (WEEKLY_FN, {"date": "2026-11-23"}, "2026-11-23 is a Monday"),
        (WEEKLY_FN, {"from": "2026-11-23", "to": "2026-11-28"}, "contains none"),
        (DAILY_FN, {"date": "2026-11-22", "org": "not-a-uuid"}, "must be a UUID"),
        # a well-formed id that names no organization is refused before anything is written
        (DAILY_FN, {"date": "2026-11-22", "org": str(uuid.UUID(int=1))}, "unknown organization"),
        (DAILY_FN, {"scheduled_time": "2026-11-23T03:00:00Z", "org": "x"}, "unrecognised"),
    ],
)
def test_bad_events_write_nothing(
    lambda_env: Lambda, function: str, event: Any, message: str
) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)

    with pytest.raises(BadRequest) as caught:
        lambda_env.invoke(function, event)

    assert message in str(caught.value)
    assert data.job_runs(lambda_env.engine) == []
    assert data.metrics_rows(lambda_env.engine) == []


def test_manual_event_for_one_organization(lambda_env: Lambda) -> None:
    with lambda_env.engine.begin() as conn:
        ids = data.territory_sources(conn)
        other = org(conn, "Other")

    result = lambda_env.invoke(DAILY_FN, {"date": "2026-11-22", "org": str(ids["acme"])})

    assert result["org_id"] == str(ids["acme"])
    assert data.metrics_rows(lambda_env.engine) == [m14(data.D), sw1a(data.D)]
    assert str(other) not in str(result)


def test_failed_run_fails_the_invocation_and_keeps_earlier_rows(lambda_env: Lambda) -> None:
    with lambda_env.engine.begin() as conn:
        data.territory_sources(conn)
    lambda_env.invoke(DAILY_FN, load_event(DAILY_FN, "scheduler"))
    before = data.metrics_rows(lambda_env.engine)

    with (
        refusing_writes(lambda_env.engine, "territory_metrics", "org_id", None),
        pytest.raises(JobFailed) as caught,
    ):
        lambda_env.invoke(DAILY_FN, load_event(DAILY_FN, "scheduler"))

    assert str(caught.value).startswith(f"{DAILY} failed: 2026-11-22 failed (")
    assert "refused by the test trigger" in str(caught.value)
    assert [r["status"] for r in data.job_runs(lambda_env.engine)] == ["succeeded", "failed"]
    # the failed run rolled back: the rows of the first run are untouched
    assert data.metrics_rows(lambda_env.engine) == before
    assert lambda_env.outputs().metric(f"{DAILY}.failed") == [1]
