"""The job_runs SQL (spec §2, §7, §8): open and close a run, close abandoned ones, and what
the calendar asks of the ledger: the earliest target, what succeeded, what is due.

Scope: a run with `org_id` NULL covered every organization; one with an `org_id` covered only
that organization. "Succeeded for a scope" means a succeeded run for every organization, or (for
one organization's scope) one limited to it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, text

from opsmetrics.dates import SUNDAY
from opsmetrics.jobs import Job

RequestKind = Literal["single", "backfill", "schedule", "catch-up"]


@dataclass(frozen=True)
class RunRequest:
    """One request (a schedule tick, a backfill, a catch-up, one date): its runs share its id."""

    kind: RequestKind
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    tick: datetime | None = None  # the schedule tick (UTC) it came from


ABANDONED = "abandoned: the process ended while running"
# The day key of a job's whole-job lock (ledger rows' keys count days from 2000, never this).
JOB_LOCK_DAY = date(1999, 12, 31)
# The advisory lock of (job, date): held by a live run for as long as its row is `running`.
LOCK_KEY_SQL = "hashtext('opsmetrics:' || {job}), ({day} - DATE '2000-01-01')"

# Abandoned `running` rows: their run is gone when their lock is free (spec §8). Taking the
# lock (released when this transaction ends) proves it; a live run holds it until it has
# closed its row.
_SWEEP = f"""
    WITH running AS MATERIALIZED (
        SELECT id, job, target_date FROM job_runs WHERE status = 'running' {{where}}
    ), gone AS MATERIALIZED (
        SELECT id FROM running
        WHERE pg_try_advisory_xact_lock({LOCK_KEY_SQL.format(job="job", day="target_date")})
    )
    UPDATE job_runs SET status = 'failed', finished_at = clock_timestamp(),
        error = '{ABANDONED}'
    WHERE id IN (SELECT id FROM gone) AND status = 'running'
"""


def sweep_abandoned(conn: Connection, job: str | None = None) -> int:
    """Close `running` rows whose run is gone as failed; how many. Commit soon after: the locks
    taken to prove it are held until the transaction ends."""
    where, params = ("AND job = :job", {"job": job}) if job else ("", {})
    return int(conn.execute(text(_SWEEP.format(where=where)), params).rowcount or 0)


def open_run(
    engine: Engine,
    job: str,
    target: date,
    trigger: str,
    org_id: uuid.UUID | None,
    request: RunRequest,
) -> uuid.UUID:
    """Commit a `running` row (after closing abandoned ones) and return its id."""
    run_id = uuid.uuid4()
    stats: dict[str, Any] = {"org_id": str(org_id)} if org_id else {}
    if request.tick is not None:
        stats["tick"] = request.tick.isoformat()
    with engine.begin() as conn:
        sweep_abandoned(conn)
        # The caller holds this (job, date)'s lock, so no live run owns these rows: the sweep's
        # try-lock cannot take it from another session, hence the plain update.
        conn.execute(
            text(
                f"UPDATE job_runs SET status = 'failed', finished_at = clock_timestamp(),"
                f" error = '{ABANDONED}' WHERE job = :job AND target_date = :day"
                " AND status = 'running'"
            ),
            {"job": job, "day": target},
        )
        conn.execute(
            text(
                "INSERT INTO job_runs (id, job, target_date, trigger, status, started_at, stats,"
                " org_id, request_id, request_kind) VALUES (:id, :job, :day, :trigger, 'running',"
                " clock_timestamp(), CAST(:stats AS jsonb), :org, :request_id, :kind)"
            ),
            {
                "id": run_id,
                "job": job,
                "day": target,
                "trigger": trigger,
                "stats": json.dumps(stats),
                "org": org_id,
                "request_id": request.id,
                "kind": request.kind,
            },
        )
    return run_id


# The per-organization limit on runs started over HTTP: the check and the reservation happen
# under one lock per organization, so concurrent requests are counted exactly.
_RESERVATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('opsmetrics:http-runs'), hashtext(:org))"
_RESERVATIONS_IN_WINDOW = """
    WITH old AS (
        DELETE FROM http_run_reservations
        WHERE org_id = :org_id AND reserved_at < clock_timestamp() - interval '1 hour'
    )
    SELECT ceil(extract(epoch FROM reserved_at + make_interval(secs => :window)
                - clock_timestamp())) AS leaves_in
    FROM http_run_reservations
    WHERE org_id = :org_id AND reserved_at > clock_timestamp() - make_interval(secs => :window)
    ORDER BY reserved_at
"""
_RESERVE = "INSERT INTO http_run_reservations (org_id) VALUES (:org_id)"


def reserve_http_run(
    conn: Connection, org_id: uuid.UUID, per_window: int, window_s: int = 60
) -> int:
    """Reserve one HTTP request's runs for the organization: 0 when reserved, else the seconds
    until one of its last `per_window` reservations leaves the window (nothing reserved).
    Commit right after: the organization's lock is held until then."""
    conn.execute(text(_RESERVATION_LOCK), {"org": str(org_id)})
    leaving = [
        int(row.leaves_in)
        for row in conn.execute(
            text(_RESERVATIONS_IN_WINDOW), {"org_id": org_id, "window": window_s}
        )
    ]
    if len(leaving) >= per_window:
        return max(leaving[len(leaving) - per_window], 1)
    conn.execute(text(_RESERVE), {"org_id": org_id})
    return 0


def close_run(
    conn: Connection, run_id: uuid.UUID, status: str, stats: dict[str, Any], error: str | None
) -> None:
    conn.execute(
        text(
            "UPDATE job_runs SET status = :status, finished_at = clock_timestamp(),"
            " stats = CAST(:stats AS jsonb), error = :error WHERE id = :id"
        ),
        {"status": status, "stats": json.dumps(stats, default=str), "error": error, "id": run_id},
    )


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
    if spec.weekly:  # the first Sunday on or after start
        start += timedelta(days=(SUNDAY - start.weekday()) % 7)
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
