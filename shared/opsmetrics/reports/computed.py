"""Which computed dates a report shows, and how fresh they are (spec §7, reports over time).

A report reads what its job (registry.REPORT_JOBS) computed, as the ledger records it: a date
counts once a `succeeded` run of that job covered the caller's organization (a run for every
organization, or one limited to it). Rows alone prove nothing: a run for a mistyped far-future
date, a failed run, or rows written outside the jobs never become a report's date.

- Without a date: the latest such date on or before today (UTC).
- A date (or a range without one such date) the job never computed: NotFound, one line naming
  the command that computes it. Never a report of zeros.
- Dates outside the valid target dates (jobs.check_bounds): BadRequest.
- `as_of`: when the run behind the data finished; `stale`: the job's expected latest date
  (Job.target_for(today)) has no succeeded run covering the caller (ledger_queries.is_stale).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from opsmetrics import ledger_queries
from opsmetrics.errors import NotFound
from opsmetrics.jobs import JOBS, Job
from opsmetrics.reports.model import ReportFreshness, ReportParams
from opsmetrics.reports.registry import REPORT_JOBS


def report_job(name: str) -> Job:
    """The job whose output the report `name` reads."""
    return JOBS[REPORT_JOBS[name]]


def one_date(
    conn: Connection, name: str, params: ReportParams, asked: date | None
) -> tuple[date, ReportFreshness]:
    """The date a one-date report shows (`asked`, else the latest computed) and its freshness."""
    spec = report_job(name)
    today = params.current_day()
    if asked is not None:
        spec.check(asked, today)  # the job's own rule: bounds, and Sundays for a weekly job
        found = ledger_queries.latest_succeeded(conn, spec.name, params.org_id, on=asked)
        if found is None:
            raise not_computed(name, spec, asked, asked)
    else:
        found = _latest(conn, name, spec, params)
    as_of = found.finished_at
    if spec.recomputes_later_dates:  # a rerun of an earlier Sunday rewrote this one's counters
        as_of = (
            ledger_queries.last_rewrite(conn, spec.name, params.org_id, found.target_date) or as_of
        )
    return found.target_date, freshness(conn, spec, params, as_of)


def latest_date(conn: Connection, name: str, params: ReportParams) -> date:
    """The latest date on or before today the report's job computed for the caller."""
    return _latest(conn, name, report_job(name), params).target_date


def _latest(
    conn: Connection, name: str, spec: Job, params: ReportParams
) -> ledger_queries.Computed:
    today = params.current_day()
    found = ledger_queries.latest_succeeded(conn, spec.name, params.org_id, on_or_before=today)
    if found is None:
        raise nothing_computed(name, spec, today)
    return found


def dates_between(
    conn: Connection, name: str, params: ReportParams, start: date, end: date
) -> tuple[list[date], ReportFreshness]:
    """The computed dates in [start, end], oldest first, and the freshness of the latest run
    among them; NotFound when there is none."""
    spec = report_job(name)
    found = ledger_queries.succeeded_between(conn, spec.name, params.org_id, start, end)
    if not found:
        raise not_computed(name, spec, start, end)
    return sorted(found), freshness(conn, spec, params, max(found.values()))


def freshness(
    conn: Connection, spec: Job, params: ReportParams, as_of: datetime
) -> ReportFreshness:
    today = params.current_day()
    stale = ledger_queries.is_stale(conn, spec, today, params.org_id)
    return ReportFreshness(as_of=as_of, stale=stale, job=spec.name, expected=spec.target_for(today))


def not_computed(name: str, spec: Job, start: date, end: date) -> NotFound:
    """`name for D was not computed: run `opsmetrics run JOB --date D``, one line."""
    if start == end:
        return NotFound(
            f"{name} for {start} was not computed: run `opsmetrics run {spec.name} --date {start}`"
        )
    return NotFound(
        f"{name} for {start}..{end} was not computed: run"
        f" `opsmetrics run {spec.name} --from {start} --to {end}`"
    )


def nothing_computed(name: str, spec: Job, today: date) -> NotFound:
    return NotFound(
        f"{name} has no computed date on or before {today}: run `opsmetrics run {spec.name}`"
    )
