"""Default target dates, date parsing and the one rule per date question (spec §3), pure."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import opsmetrics
from opsmetrics.dates import (
    check_range,
    check_sunday,
    day_before,
    days,
    latest_sunday_before,
    parse_date,
    sundays,
)
from opsmetrics.errors import BadRequest
from opsmetrics.jobs import requested_dates as target_dates


@pytest.mark.parametrize(
    ("today", "sunday"),
    [
        (date(2026, 11, 23), date(2026, 11, 22)),  # Monday -> the day before
        (date(2026, 11, 22), date(2026, 11, 15)),  # Sunday -> strictly before: a week back
        (date(2026, 11, 21), date(2026, 11, 15)),  # Saturday
        (date(2026, 11, 17), date(2026, 11, 15)),  # Tuesday
    ],
)
def test_latest_sunday_strictly_before(today: date, sunday: date) -> None:
    assert latest_sunday_before(today) == sunday


def test_daily_default_is_yesterday_even_across_a_year() -> None:
    assert day_before(date(2027, 1, 1)) == date(2026, 12, 31)
    assert target_dates("daily-trend-aggregation", today=date(2024, 3, 1)) == [date(2024, 2, 29)]


def test_weekly_default_is_the_latest_sunday_before_today() -> None:
    assert target_dates("weekly-hiring-triggers", today=date(2026, 11, 23)) == [date(2026, 11, 22)]


def test_ranges_are_inclusive_and_weekly_ranges_keep_sundays() -> None:
    assert list(days(date(2026, 1, 30), date(2026, 2, 2))) == [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 2),
    ]
    assert list(sundays(date(2026, 11, 1), date(2026, 11, 22))) == [
        date(2026, 11, 1),
        date(2026, 11, 8),
        date(2026, 11, 15),
        date(2026, 11, 22),
    ]
    assert target_dates(
        "weekly-hiring-triggers",
        today=date(2026, 12, 1),
        start=date(2026, 11, 2),
        end=date(2026, 11, 16),
    ) == [date(2026, 11, 8), date(2026, 11, 15)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": date(2026, 2, 2), "end": date(2026, 2, 1)}, "backwards"),
        ({"start": date(2026, 2, 2)}, "both"),
        ({"on": date(2026, 2, 2), "start": date(2026, 2, 1), "end": date(2026, 2, 3)}, "not both"),
    ],
)
def test_bad_ranges_are_bad_requests(kwargs: dict[str, date], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        target_dates("daily-territory-metrics", today=date(2026, 3, 1), **kwargs)  # type: ignore[arg-type]


def test_weekly_job_refuses_a_weekday_and_names_the_sunday_before() -> None:
    with pytest.raises(BadRequest, match="2026-11-15"):
        target_dates("weekly-hiring-triggers", today=date(2026, 12, 1), on=date(2026, 11, 18))


def test_weekly_range_without_a_sunday_is_refused() -> None:
    with pytest.raises(BadRequest, match="contains none"):
        target_dates(
            "weekly-hiring-triggers",
            today=date(2026, 12, 1),
            start=date(2026, 11, 16),
            end=date(2026, 11, 20),
        )


def test_unknown_job_lists_the_known_ones() -> None:
    with pytest.raises(BadRequest, match="daily-territory-metrics"):
        target_dates("hourly-nonsense", today=date(2026, 1, 1))


@pytest.mark.parametrize(
    "bad", ["2026-13-01", "2026-02-30", "20260201", "yesterday", "", "2026-2-1"]
)
def test_malformed_dates_are_bad_requests(bad: str) -> None:
    with pytest.raises(BadRequest, match="YYYY-MM-DD"):
        parse_date(bad)


def test_parse_date_accepts_surrounding_spaces() -> None:
    assert parse_date(" 2026-02-01 ") == date(2026, 2, 1)


def test_a_backwards_range_is_refused_with_the_one_message() -> None:
    with pytest.raises(BadRequest) as refused:
        check_range(date(2026, 2, 2), date(2026, 2, 1))
    assert str(refused.value) == "the range runs backwards: from 2026-02-02 is after to 2026-02-01"
    with pytest.raises(BadRequest) as flagged:
        check_range(date(2026, 2, 2), date(2026, 2, 1), ("--from", "--to"))
    assert str(flagged.value) == (
        "the range runs backwards: --from 2026-02-02 is after --to 2026-02-01"
    )
    check_range(date(2026, 2, 1), date(2026, 2, 1))  # one day runs forwards


def test_a_weekday_is_refused_with_the_one_sunday_message() -> None:
    assert check_sunday(date(2026, 11, 22), "anything") == date(2026, 11, 22)
    with pytest.raises(BadRequest) as refused:
        check_sunday(date(2026, 11, 18), "the weekly report takes a Sunday")
    assert str(refused.value) == (
        "the weekly report takes a Sunday; 2026-11-18 is a Wednesday"
        " (the Sunday before it is 2026-11-15)"
    )


def test_the_weekly_job_names_the_refused_day_exactly() -> None:
    """The job's own wording, to the letter: `what` names the day ("date", "from", "to")."""
    from opsmetrics.jobs import job

    weekly = job("weekly-hiring-triggers")
    with pytest.raises(BadRequest) as refused:
        weekly.check(date(2026, 3, 16), date(2026, 11, 30))
    assert str(refused.value) == (
        "weekly-hiring-triggers takes a week-ending Sunday; date 2026-03-16 is a Monday"
        " (the Sunday before it is 2026-03-15)"
    )
    with pytest.raises(BadRequest) as refused:
        weekly.check(date(2026, 3, 17), date(2026, 11, 30), "from")
    assert str(refused.value).startswith(
        "weekly-hiring-triggers takes a week-ending Sunday; from 2026-03-17 is a Tuesday"
    )


# The distinctive words of each date rule's message: only dates.py may spell them, so a new copy
# of a rule (and its message) fails here instead of drifting from the others.
DATE_MESSAGES = ("runs backwards", "the Sunday before it is")
PACKAGE = Path(opsmetrics.__file__).parent
ROOT = PACKAGE.parents[1]


@pytest.mark.parametrize("words", DATE_MESSAGES)
def test_each_date_message_is_spelled_in_dates_py_only(words: str) -> None:
    spelled = {
        path.relative_to(ROOT).as_posix()
        for path in [*PACKAGE.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if words in path.read_text(encoding="utf-8")
    }
    assert spelled == {"shared/opsmetrics/dates.py"}


def test_sundays_from_any_weekday_and_the_first_sunday_from_a_day() -> None:
    from opsmetrics.dates import first_sunday_from

    assert first_sunday_from(date(2026, 11, 22)) == date(2026, 11, 22)  # a Sunday: itself
    assert first_sunday_from(date(2026, 11, 23)) == date(2026, 11, 29)  # a Monday: the next
    assert list(sundays(date(2026, 11, 23), date(2026, 11, 28))) == []  # none inside
    assert list(sundays(date(2026, 11, 21), date(2026, 12, 6))) == [
        date(2026, 11, 22),
        date(2026, 11, 29),
        date(2026, 12, 6),
    ]
