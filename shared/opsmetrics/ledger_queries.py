"""What the calendar asks of the job_runs ledger (spec §7): the earliest target, what succeeded,
what is missing or due, what was computed after a date, the latest succeeded runs.

Scope: a run with `org_id` NULL covered every organization; one with an `org_id` covered only
that organization. "Succeeded for a scope" means a succeeded run for every organization, or (for
one organization's scope) one limited to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.dates import first_sunday_from
from opsmetrics.jobs import Job


def _scope(org_id: uuid.UUID | None, alias: str = "r") -> str:
    """SQL: the run `alias` covered the scope (every organization, or :org_id)."""
    if org_id is None:
        return f"{alias}.org_id IS NULL"
    return f"({alias}.org_id IS NULL OR {alias}.org_id = :org_id)"


def earliest_target(conn: Connection, job: str, org_id: uuid.UUID | None = None) -> date | None:
    """The earliest target date of the job's runs covering the scope: the calendar starts there.
    (A tenant's refresh of an old date moves its own calendar, never everybody's.)"""
    value = conn.execute(
        text(f"SELECT min(r.target_date) FROM job_runs r WHERE r.job = :job AND {_scope(org_id)}"),
        {"job": job, "org_id": org_id},
    ).scalar()
    return value if isinstance(value, date) else None


def succeeded(conn: Connection, job: str, dates: list[date], org_id: uuid.UUID | None) -> set[date]:
    """Which of `dates` have a succeeded run of `job` covering the scope."""
    if not dates:
        return set()
    found = conn.execute(
        text(
            "SELECT DISTINCT r.target_date FROM job_runs r WHERE r.job = :job"
            " AND r.status = 'succeeded' AND r.target_date = ANY(CAST(:dates AS date[]))"
            f" AND {_scope(org_id)}"
        ),
        {"job": job, "dates": [d.isoformat() for d in dates], "org_id": org_id},
    )
    return {row[0] for row in found}


@dataclass(frozen=True)
class Missing:
    """Dates without a succeeded run: the oldest few, how many in all, the newest."""

    dates: list[date] = field(default_factory=list)
    total: int = 0
    newest: date | None = None


# Every date of the span, less those with a succeeded run (read once from the partial index
# of succeeded runs): a hash anti-join, not a probe per date.
_MISSING = """
    WITH done AS (
        SELECT DISTINCT r.target_date FROM job_runs r
        WHERE r.job = :job AND r.status = 'succeeded'
          AND r.target_date BETWEEN :first AND :last AND {scope}
    ), gaps AS (
        SELECT g::date AS day
        FROM generate_series(CAST(:first AS date), CAST(:last AS date), CAST(:step AS interval)) g
        WHERE g::date NOT IN (SELECT target_date FROM done)
    )
    SELECT day, count(*) OVER () AS total, max(day) OVER () AS newest
    FROM gaps ORDER BY day {limit}
"""


def missing(
    conn: Connection,
    spec: Job,
    start: date,
    end: date,
    org_id: uuid.UUID | None,
    *,
    earliest: date | None = None,
    limit: int | None = None,
) -> Missing:
    """The job's dates in [start, end], later than its earliest target date, without a
    succeeded run covering the scope: the oldest `limit` of them, how many, the newest."""
    if earliest is None:
        earliest = earliest_target(conn, spec.name, org_id)
    if earliest is None:
        return Missing()
    start = max(start, earliest + timedelta(days=1))
    if spec.weekly:
        start = first_sunday_from(start)
    if end < start:
        return Missing()
    sql = _MISSING.format(scope=_scope(org_id), limit="LIMIT :limit" if limit else "")
    rows = conn.execute(
        text(sql),
        {
            "first": start,
            "last": end,
            "step": f"{spec.step.days} days",
            "job": spec.name,
            "org_id": org_id,
            "limit": limit,
        },
    ).all()
    if not rows:
        return Missing()
    return Missing([r.day for r in rows], int(rows[0].total), rows[0].newest)


def due(
    conn: Connection,
    spec: Job,
    target: date,
    horizon_days: int,
    org_id: uuid.UUID | None,
) -> list[date]:
    """spec §7: the dates of `spec` due before `target`, oldest first."""
    window = spec.due_window(target, horizon_days)
    if window is None:
        return []
    return missing(conn, spec, window[0], window[1], org_id).dates


def computed_after(conn: Connection, job: str, after: date, org_id: uuid.UUID | None) -> list[date]:
    """The target dates after `after` whose run of `job` committed its outputs (succeeded, or
    partial) for any organization in the scope: what a forward recompute goes through."""
    scope = "" if org_id is None else "AND (r.org_id IS NULL OR r.org_id = :org_id)"
    found = conn.execute(
        text(
            "SELECT DISTINCT r.target_date FROM job_runs r WHERE r.job = :job"
            f" AND r.status IN ('succeeded', 'partial') AND r.target_date > :after {scope}"
            " ORDER BY 1"
        ),
        {"job": job, "after": after, "org_id": org_id},
    )
    return [row[0] for row in found]


@dataclass(frozen=True)
class Computed:
    """A date's latest succeeded run covering a scope: when it finished (a report's `as_of`)."""

    target_date: date
    finished_at: datetime


def latest_succeeded(
    conn: Connection,
    job: str,
    org_id: uuid.UUID | None,
    *,
    on_or_before: date | None = None,
    on: date | None = None,
) -> Computed | None:
    """The latest succeeded run of `job` covering the scope: on `on` exactly, or the latest
    target date on or before `on_or_before` (spec §7, reports over time)."""
    where = ""
    params: dict[str, Any] = {"job": job, "org_id": org_id, "on": on, "last": on_or_before}
    if on is not None:
        where = " AND r.target_date = :on"
    elif on_or_before is not None:
        where = " AND r.target_date <= :last"
    row = conn.execute(
        text(
            "SELECT r.target_date, r.finished_at FROM job_runs r WHERE r.job = :job"
            f" AND r.status = 'succeeded' AND {_scope(org_id)}{where}"
            " ORDER BY r.target_date DESC, r.finished_at DESC LIMIT 1"
        ),
        params,
    ).first()
    return Computed(row.target_date, row.finished_at) if row is not None else None


def is_stale(conn: Connection, spec: Job, today: date, org_id: uuid.UUID | None) -> bool:
    """spec §7: the job's expected latest date (its usual target for today) has no
    succeeded run covering the scope."""
    return latest_succeeded(conn, spec.name, org_id, on=spec.target_for(today)) is None


def succeeded_between(
    conn: Connection, job: str, org_id: uuid.UUID | None, start: date, end: date
) -> dict[date, datetime]:
    """The dates in [start, end] with a succeeded run of `job` covering the scope, each with
    when its latest such run finished (a range report's dates and `as_of`)."""
    found = conn.execute(
        text(
            "SELECT r.target_date, max(r.finished_at) AS finished_at FROM job_runs r"
            " WHERE r.job = :job AND r.status = 'succeeded'"
            f" AND r.target_date BETWEEN :start AND :end AND {_scope(org_id)}"
            " GROUP BY r.target_date"
        ),
        {"job": job, "org_id": org_id, "start": start, "end": end},
    )
    return {row.target_date: row.finished_at for row in found}


def last_rewrite(
    conn: Connection, job: str, org_id: uuid.UUID | None, day: date
) -> datetime | None:
    """When a succeeded run covering the scope last finished for `day` or any date before it:
    for a job whose runs recompute later dates, when `day`'s data was last written."""
    value = conn.execute(
        text(
            "SELECT max(r.finished_at) FROM job_runs r WHERE r.job = :job"
            " AND r.status IN ('succeeded', 'partial')"  # partial: only its alerts failed
            f" AND r.target_date <= :day AND {_scope(org_id)}"
        ),
        {"job": job, "day": day, "org_id": org_id},
    ).scalar()
    return value if isinstance(value, datetime) else None
