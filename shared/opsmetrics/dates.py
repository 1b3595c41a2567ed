"""Date parsing, the default target dates of spec §3, and the one rule per date question (is it a
Sunday, does a range run forwards), each with its one message. Pure: 'today' is always passed in.

tests/foundation/test_dates.py fails when another module spells one of these messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from opsmetrics.errors import BadRequest

SUNDAY = 6  # date.weekday() of a Sunday
_YMD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: str, what: str = "date") -> date:
    """A strict YYYY-MM-DD date; anything else is a bad request naming the parameter."""
    text = value.strip() if isinstance(value, str) else value
    # fromisoformat alone would also take ISO week dates such as 2026-W11-7.
    if not isinstance(text, str) or not _YMD.fullmatch(text):
        raise BadRequest(f"{what} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{what} must be a date as YYYY-MM-DD, got {value!r}") from None


def day_before(today: date) -> date:
    return today - timedelta(days=1)


def latest_sunday_before(day: date) -> date:
    """The latest Sunday strictly before `day` (a Monday gives the day before)."""
    back = (day.weekday() - SUNDAY) % 7 or 7
    return day - timedelta(days=back)


def is_sunday(day: date) -> bool:
    return day.weekday() == SUNDAY


def check_sunday(day: date, rule: str, what: str = "") -> date:
    """`day` if it is a Sunday; else BadRequest: `rule` (who takes only Sundays), then `what`
    names the day (a job's "date", "from"), which weekday it is and the Sunday before it."""
    if not is_sunday(day):
        named = f"{what} {day}" if what else str(day)
        raise BadRequest(
            f"{rule}; {named} is a {day:%A} (the Sunday before it is {latest_sunday_before(day)})"
        )
    return day


def check_range(start: date, end: date, names: tuple[str, str] = ("from", "to")) -> None:
    """BadRequest when `end` is before `start`; `names` are how the caller spells the two
    ends (`--from`/`--to` on the command line)."""
    if end < start:
        first, last = names
        raise BadRequest(f"the range runs backwards: {first} {start} is after {last} {end}")


def days(start: date, end: date) -> Iterator[date]:
    """Every day from start to end inclusive."""
    check_range(start, end)
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def first_sunday_from(day: date) -> date:
    """`day` if it is a Sunday, else the Sunday after it."""
    return day + timedelta(days=(SUNDAY - day.weekday()) % 7)


def sundays(start: date, end: date) -> Iterator[date]:
    """Every Sunday from start to end inclusive."""
    check_range(start, end)
    first = first_sunday_from(start)
    return (first + timedelta(weeks=w) for w in range(max(0, (end - first).days // 7 + 1)))
