"""The job model (spec §3, §7): every job's cadence, target-date policy, date bounds and
dependencies, in one place. Pure: no clock (`today` is always passed in), no I/O.

Events, the command line and HTTP ask this module which dates a request names and whether they
are valid; the ledger (`ledger_queries.py`) asks it which dates a job has; the run loop
(`runs.py`) asks it for the job's function. Job functions are named by "module:name" paths
(`function_at`), so a job's module (and SQLAlchemy behind it) is imported only when that job
runs, and this model imports none of the products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from opsmetrics.dates import (
    check_range,
    check_sunday,
    day_before,
    days,
    latest_sunday_before,
    sundays,
)
from opsmetrics.errors import BadRequest
from opsmetrics.plugins import load_attr

if TYPE_CHECKING:
    from opsmetrics.job_context import JobFunction

Cadence = Literal["daily", "weekly"]

# spec §7: the valid target dates, at every door. Before 2000 there is no data to compute;
# a year ahead covers any planned rota, and anything later is a typo that would otherwise write
# rows of zeros that every undated report would then show.
EARLIEST_DATE = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366
# spec §7: the weekly chain computes missing earlier Sundays at most this far back.
MAX_CHAIN_WEEKS = 52
# One request (a Lambda backfill event, an HTTP run) covers at most this many dates: a quarter of
# daily runs fits well inside one 15-minute invocation; longer backfills belong on the command
# line, which has no limit.
MAX_REQUEST_DAYS = 92


@dataclass(frozen=True)
class Job:
    """One job, the one place its name, cadence, schedule and Lambda code are written: the SAM
    template, the handlers and the docs' tables are checked against it
    (tests/infra/test_template_jobs.py)."""

    name: str
    cadence: Cadence
    summary: str
    schedule: str  # the EventBridge Scheduler cron expression (UTC) the SAM template uses
    folder: str  # functions/<folder>/app.py, the job's Lambda handler (its JOB is `name`)
    load: Callable[[], JobFunction]  # imports the job's module only when it runs
    # The job whose rows of the same date this one reads (and computes first where missing).
    reads: str | None = None

    @property
    def code_uri(self) -> str:
        """The function's CodeUri in template.yaml."""
        return f"functions/{self.folder}/"

    @property
    def function_id(self) -> str:
        """The function's logical ID in template.yaml: daily_territory_metrics ->
        DailyTerritoryMetricsFunction."""
        return "".join(part.title() for part in self.folder.split("_")) + "Function"

    @property
    def weekly(self) -> bool:
        return self.cadence == "weekly"

    @property
    def recomputes_later_dates(self) -> bool:
        """A run for an earlier date rewrites this job's later dates (the weekly chain), so a
        date's data is as recent as the latest run for it or for any date before it."""
        return self.weekly

    @property
    def step(self) -> timedelta:
        """The distance between two consecutive target dates."""
        return timedelta(days=7 if self.weekly else 1)

    def target_for(self, today: date) -> date:
        """spec §3: daily jobs target yesterday; the weekly job the latest Sunday before today.

        For a scheduled tick, `today` is the tick's UTC date, never the wall clock."""
        return latest_sunday_before(today) if self.weekly else day_before(today)

    def previous(self, target: date) -> date | None:
        """The date whose output this job's run for `target` builds on (weekly: S-7)."""
        return target - self.step if self.weekly else None

    def dates_between(self, start: date, end: date) -> list[date]:
        """This job's target dates from start to end inclusive (weekly: the Sundays)."""
        return list(sundays(start, end) if self.weekly else days(start, end))

    def due_window(self, target: date, horizon_days: int) -> tuple[date, date] | None:
        """The span, before `target`, that catch-up looks at: [target - horizon, target - 1]."""
        if horizon_days <= 0:
            return None
        return target - timedelta(days=horizon_days), target - timedelta(days=1)

    def check(self, target: date, today: date, what: str = "date") -> date:
        """`target` if it is a valid target date of this job, else BadRequest (spec §7)."""
        check_bounds(target, today, what)
        if self.weekly:
            check_sunday(target, f"{self.name} takes a week-ending Sunday", what)
        return target


def latest_valid_date(today: date) -> date:
    return today + timedelta(days=MAX_DAYS_AHEAD)


def check_bounds(target: date, today: date, what: str = "date") -> date:
    """spec §7: from 2000-01-01 to today (UTC) + 366 days."""
    latest = latest_valid_date(today)
    if not EARLIEST_DATE <= target <= latest:
        raise BadRequest(
            f"{what} {target} is outside the valid dates {EARLIEST_DATE} to {latest}"
            f" (today + {MAX_DAYS_AHEAD} days)"
        )
    return target


def function_at(path: str) -> Callable[[], JobFunction]:
    """A job's `load`: the function at "module:name", imported only when the job runs."""

    def load() -> JobFunction:
        fn: JobFunction = load_attr(path)
        return fn

    return load


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "daily-territory-metrics",
            "daily",
            "per territory: bookings, rates and utilization over the 7 days ending on the date",
            "cron(0 3 * * ? *)",
            "daily_territory_metrics",
            function_at("opsmetrics.territory.daily:compute"),
        ),
        Job(
            "weekly-hiring-triggers",
            "weekly",
            "per territory: consecutive overloaded weeks, then hiring triggers for the Sunday",
            "cron(0 4 ? * MON *)",
            "weekly_hiring_triggers",
            function_at("opsmetrics.territory.weekly:compute"),
            reads="daily-territory-metrics",
        ),
        Job(
            "daily-trend-aggregation",
            "daily",
            "per organization: topic, sentiment, escalation and hotspot figures for the UTC day",
            "cron(0 3 * * ? *)",
            "daily_trend_aggregation",
            function_at("opsmetrics.trends.daily:compute"),
        ),
    )
}


def job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise BadRequest(f"unknown job {name!r}; known jobs: {', '.join(JOBS)}") from None


def requested_dates(
    name: str,
    *,
    today: date,
    on: date | None = None,
    start: date | None = None,
    end: date | None = None,
    max_dates: int | None = None,
) -> list[date]:
    """The dates a request names, in order, each checked (spec §7). BadRequest otherwise.

    Nothing named: the job's usual target for `today`. A range of a weekly job: its Sundays.
    """
    spec = job(name)
    if on is not None and (start is not None or end is not None):
        raise BadRequest("give either a date or a from/to range, not both")
    if (start is None) != (end is None):
        raise BadRequest("a range needs both from and to")
    if start is not None and end is not None:
        check_bounds(start, today, "from")
        check_bounds(end, today, "to")
        check_range(start, end)
        if max_dates is not None and (end - start).days + 1 > max_dates:
            raise BadRequest(
                f"one request covers at most {max_dates} days, {start}..{end} has"
                f" {(end - start).days + 1}; split it, or use"
                f" `opsmetrics run {name} --from --to` on the command line"
            )
        picked = spec.dates_between(start, end)
        if not picked:
            raise BadRequest(f"{name} runs for Sundays and {start}..{end} contains none")
        return picked
    return [spec.check(on if on is not None else spec.target_for(today), today)]


def chain(spec: Job, target: date, earliest: date) -> Iterator[date]:
    """The earlier dates `target` builds on that lie after the job's earliest target date,
    newest first, at most MAX_CHAIN_WEEKS of them (spec §7, the weekly chain)."""
    previous = spec.previous(target)
    for _ in range(MAX_CHAIN_WEEKS):
        if previous is None or previous <= earliest:
            return
        yield previous
        previous = spec.previous(previous)
