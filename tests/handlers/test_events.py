"""opsmetrics.events: every accepted event shape -> dates and trigger; everything else refused.

Calendar used below (worked out by hand): 2026-11-23 is a Monday, so 2026-11-22, -15, -08 and
-01 are Sundays; 2026-11-29 is the next Sunday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsmetrics.errors import BadRequest
from opsmetrics.events import parse_event
from opsmetrics.jobs import MAX_REQUEST_DAYS as MAX_RANGE_DAYS

TODAY = date(2026, 12, 1)  # bounds the valid dates (spec §7)
DAILY = "daily-territory-metrics"
TRENDS = "daily-trend-aggregation"
WEEKLY = "weekly-hiring-triggers"
ORG = "6f1c1f1e-5b7a-4f0e-9a53-2f4a8a1d2c3b"


def classic(time: Any, **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0d7b4c1e-0000-4000-8000-000000000001",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "eu-west-2",
        "resources": ["arn:aws:events:eu-west-2:123456789012:rule/r"],
        "detail": {},
        **extra,
    }


@pytest.mark.parametrize(
    ("job", "event", "dates", "trigger"),
    [
        # daily jobs: the day before the tick's UTC date
        (DAILY, {"scheduled_time": "2026-11-23T03:00:00Z"}, [date(2026, 11, 22)], "schedule"),
        (TRENDS, {"scheduled_time": "2026-11-23T03:00:00Z"}, [date(2026, 11, 22)], "schedule"),
        (DAILY, classic("2026-11-23T03:00:00Z"), [date(2026, 11, 22)], "schedule"),
        # 00:30 at +01:00 is 23:30 UTC on the 22nd: the target is the 21st, not the 22nd
        (DAILY, {"scheduled_time": "2026-11-23T00:30:00+01:00"}, [date(2026, 11, 21)], "schedule"),
        # 23:30 at -05:00 is 04:30 UTC on the 24th: the target is the 23rd
        (DAILY, classic("2026-11-23T23:30:00-05:00"), [date(2026, 11, 23)], "schedule"),
        # weekly: the latest Sunday strictly before the tick's UTC date
        (WEEKLY, {"scheduled_time": "2026-11-23T04:00:00Z"}, [date(2026, 11, 22)], "schedule"),
        (WEEKLY, classic("2026-11-23T04:00:00Z"), [date(2026, 11, 22)], "schedule"),
        # a late delivery on the Sunday itself still means the week before
        (WEEKLY, {"scheduled_time": "2026-11-22T23:59:59Z"}, [date(2026, 11, 15)], "schedule"),
        # Wednesday 2026-11-25 -> Sunday 2026-11-22
        (WEEKLY, {"scheduled_time": "2026-11-25T10:00:00Z"}, [date(2026, 11, 22)], "schedule"),
        # manual and backfill
        (DAILY, {"date": "2026-11-20"}, [date(2026, 11, 20)], "manual"),
        (WEEKLY, {"date": "2026-11-15"}, [date(2026, 11, 15)], "manual"),
        (
            TRENDS,
            {"from": "2026-11-20", "to": "2026-11-22"},
            [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)],
            "backfill",
        ),
        # 2026-11-01..2026-11-22 holds four Sundays
        (
            WEEKLY,
            {"from": "2026-11-01", "to": "2026-11-22"},
            [date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 22)],
            "backfill",
        ),
        (DAILY, {"from": "2026-11-22", "to": "2026-11-22"}, [date(2026, 11, 22)], "backfill"),
    ],
)
def test_accepted_shapes(job: str, event: Any, dates: list[date], trigger: str) -> None:
    request = parse_event(job, event, TODAY)
    assert request.dates == dates
    assert request.trigger == trigger
    assert request.org_id is None


def test_tick_is_kept_in_utc() -> None:
    request = parse_event(DAILY, {"scheduled_time": "2026-11-23T00:30:00+01:00"}, TODAY)
    assert request.tick == datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert request.describe() == {
        "trigger": "schedule",
        "target_date": "2026-11-21",
        "tick": "2026-11-22T23:30:00+00:00",
    }


def test_manual_events_may_name_one_organization() -> None:
    request = parse_event(DAILY, {"date": "2026-11-20", "org": f"  {ORG.upper()} "}, TODAY)
    assert request.org_id == ORG
    ranged = parse_event(WEEKLY, {"from": "2026-11-15", "to": "2026-11-22", "org": ORG}, TODAY)
    assert (ranged.org_id, ranged.trigger) == (ORG, "backfill")


def test_longest_backfill_accepted() -> None:
    start = date(2026, 1, 1)
    end = start + timedelta(days=MAX_RANGE_DAYS - 1)
    request = parse_event(DAILY, {"from": start.isoformat(), "to": end.isoformat()}, TODAY)
    assert len(request.dates) == MAX_RANGE_DAYS
    assert (request.dates[0], request.dates[-1]) == (start, end)


@pytest.mark.parametrize(
    ("job", "event", "message"),
    [
        (DAILY, None, "must be a JSON object"),
        (DAILY, ["2026-11-20"], "must be a JSON object"),
        (DAILY, "2026-11-20", "must be a JSON object"),
        (DAILY, {}, "unrecognised event (keys: none)"),
        (DAILY, {"day": "2026-11-20"}, "unrecognised event (keys: day)"),
        (DAILY, {"date": "2026-11-20", "to": "2026-11-22"}, "unrecognised event"),
        (DAILY, {"date": "2026-11-20", "dry_run": True}, "unrecognised event"),
        (DAILY, {"scheduled_time": "2026-11-23T03:00:00Z", "org": ORG}, "unrecognised event"),
        (DAILY, {"scheduled_time": "2026-11-23T03:00:00Z", "x": 1}, "unrecognised event"),
        (DAILY, {"org": ORG}, "unrecognised event"),
        (DAILY, {"from": "2026-11-20"}, "unrecognised event"),
        # scheduler ticks
        (DAILY, {"scheduled_time": "2026-11-23T03:00:00"}, "has no time zone"),
        (DAILY, {"scheduled_time": "2026-11-23"}, "must be an ISO 8601 time"),
        (DAILY, {"scheduled_time": "<aws.scheduler.scheduled-time>"}, "ISO 8601"),
        (DAILY, {"scheduled_time": "2026-13-40T03:00:00Z"}, "ISO 8601"),
        (DAILY, {"scheduled_time": 1763866800}, "ISO 8601"),
        (DAILY, {"scheduled_time": None}, "ISO 8601"),
        # classic rule events
        (DAILY, classic("2026-11-23T03:00:00Z") | {"detail-type": "Object Created"}, "Object"),
        (DAILY, {"detail-type": "Scheduled Event", "source": "aws.events"}, "has no 'time'"),
        (DAILY, classic("2026-11-23T03:00:00Z", source="my.app"), "must come from 'aws.events'"),
        (DAILY, classic("yesterday"), "time must be an ISO 8601 time"),
        (DAILY, classic("2026-11-23T03:00:00"), "time has no time zone"),
        # manual dates and ranges
        (DAILY, {"date": "2026-11-31"}, "date must be a date as YYYY-MM-DD"),
        (DAILY, {"date": "20/11/2026"}, "date must be a date as YYYY-MM-DD"),
        (DAILY, {"date": "2026-11-20T00:00:00Z"}, "date must be a date as YYYY-MM-DD"),
        (DAILY, {"date": 20261120}, "'date' must be a string"),
        (DAILY, {"from": "2026-11-22", "to": "2026-11-20"}, "the range runs backwards"),
        (DAILY, {"from": "2026-11-20", "to": "2026-11-2"}, "to must be a date"),
        (WEEKLY, {"date": "2026-11-23"}, "2026-11-23 is a Monday"),
        (WEEKLY, {"from": "2026-11-23", "to": "2026-11-28"}, "contains none"),
        (DAILY, {"date": "2026-11-20", "org": "acme"}, "must be a UUID"),
        (DAILY, {"date": "2026-11-20", "org": 7}, "'org' must be an organization id"),
        # 2026-01-01 + 92 days is the 93rd day
        (DAILY, {"from": "2026-01-01", "to": "2026-04-03"}, f"at most {MAX_RANGE_DAYS} days"),
        # the job name is checked too
        ("monthly-report", {"date": "2026-11-20"}, "unknown job 'monthly-report'"),
    ],
)
def test_refused(job: str, event: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_event(job, event, TODAY)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_long_junk_is_not_echoed_in_full() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_event(DAILY, {"scheduled_time": "x" * 5000}, TODAY)
    assert len(str(caught.value)) < 200


ticks = st.datetimes(
    min_value=datetime(2000, 1, 10),
    max_value=datetime(2099, 12, 30),
    timezones=st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (-11, -5, 1, 5, 13))]),
)


@given(ticks)
def test_scheduled_target_depends_only_on_the_tick(tick: datetime) -> None:
    utc_day = tick.astimezone(UTC).date()
    for shape in ({"scheduled_time": tick.isoformat()}, classic(tick.isoformat())):
        daily = parse_event(DAILY, shape, utc_day)
        assert daily.dates == [utc_day - timedelta(days=1)]
        weekly = parse_event(WEEKLY, shape, utc_day).dates
        assert len(weekly) == 1
        sunday = weekly[0]
        # a Sunday, strictly before the tick's UTC day, and the latest such: within 7 days
        assert sunday.weekday() == 6
        assert utc_day - timedelta(days=7) <= sunday < utc_day
        # the same tick delivered again names the same dates
        assert parse_event(WEEKLY, shape, utc_day).dates == weekly
