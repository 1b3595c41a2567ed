"""`opsmetrics status` and GET /jobs/status: per job, what is computed, what is due, what is
running and whether it is stale (spec §6, §7, §8).

The questions are the ledger's (`ledger_queries.py`); this module asks them for every job, in one
consistent snapshot, a handful of statements per job whatever the number of dates:

- latest: the latest target date with a succeeded run covering the scope;
- due: spec §7's due dates within the catch-up horizon before the job's target for today
  (what the next scheduled run will catch up);
- beyond the horizon: the same gaps further back, which nothing runs by itself; their count,
  oldest, newest and the oldest few;
- running: `running` rows, after closing those whose run is gone (their lock is free);
- stale: the job's expected latest date (its target for today) has no succeeded run.

A job is healthy when it is not stale and has no due date, within the horizon or beyond it:
an old gap is missing data until someone backfills it, so it keeps the health check red rather
than ageing out of it silently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from opsmetrics import jobs, ledger, ledger_queries

# How many of the due dates beyond the horizon are listed (all are counted).
BEYOND_SHOWN = 20
# How far before the catch-up horizon `status` looks for gaps: a year. A gap stays on the health
# check (exit 1) for that year; reading every date since 2000 on every call would cost far more
# (about 40 ms a job on a 100,000-run ledger) for gaps a year of red checks has long shown.
BEYOND_LOOKBACK_DAYS = 366


@dataclass(frozen=True)
class Running:
    run_id: uuid.UUID
    job: str
    target_date: date
    trigger: str
    request_kind: str | None
    org_id: uuid.UUID | None
    started_at: datetime
    running_for_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": str(self.run_id),
            "target_date": self.target_date.isoformat(),
            "trigger": self.trigger,
            "request_kind": self.request_kind,
            "org_id": str(self.org_id) if self.org_id else None,
            "started_at": self.started_at.isoformat(),
            "running_for_s": round(self.running_for_s, 1),
        }


@dataclass(frozen=True)
class Beyond:
    """The due dates before the catch-up horizon: never run silently, reported here."""

    count: int = 0
    oldest: date | None = None
    newest: date | None = None
    dates: list[date] = field(default_factory=list)  # the oldest BEYOND_SHOWN

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "dates": [d.isoformat() for d in self.dates],
        }


@dataclass(frozen=True)
class JobFreshness:
    job: str
    cadence: str
    target: date  # the job's expected latest date for today
    latest: ledger_queries.Computed | None
    stale: bool
    due: list[date]
    beyond: Beyond
    running: list[Running]

    @property
    def healthy(self) -> bool:
        return not self.stale and not self.due and self.beyond.count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "cadence": self.cadence,
            "target_date": self.target.isoformat(),
            "latest_succeeded": self.latest.target_date.isoformat() if self.latest else None,
            "latest_finished_at": _iso(self.latest.finished_at) if self.latest else None,
            "stale": self.stale,
            "due": [d.isoformat() for d in self.due],
            "due_beyond_horizon": self.beyond.to_dict(),
            "running": [r.to_dict() for r in self.running],
            "healthy": self.healthy,
        }


@dataclass(frozen=True)
class Freshness:
    today: date
    horizon_days: int
    org_id: uuid.UUID | None  # None: every organization (an operator's view)
    abandoned_closed: int  # `running` rows closed as failed by this call
    jobs: list[JobFreshness]

    @property
    def healthy(self) -> bool:
        return all(j.healthy for j in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "catchup_days": self.horizon_days,
            "org_id": str(self.org_id) if self.org_id else None,
            "healthy": self.healthy,
            "abandoned_closed": self.abandoned_closed,
            "jobs": [j.to_dict() for j in self.jobs],
        }


def status(
    engine: Engine,
    *,
    today: date,
    horizon_days: int,
    org_id: uuid.UUID | None = None,
    sweep: bool = True,
) -> Freshness:
    """Every job's freshness for the scope (every organization, or one organization's view)."""
    closed = 0
    if sweep:
        # Its own short transaction: the sweep holds the locks it takes until it commits, and a
        # run waiting for one of them must not wait for the rest of this report.
        with engine.begin() as conn:
            closed = ledger.sweep_abandoned(conn)
    # One snapshot for every statement below, so that a run finishing meanwhile cannot be both
    # "running" and "succeeded" in the same answer.
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            running = _running(conn, org_id)
            found = [
                _job(conn, spec, today, horizon_days, org_id, running.get(spec.name, []))
                for spec in jobs.JOBS.values()
            ]
    return Freshness(today, horizon_days, org_id, closed, found)


def _job(
    conn: Connection,
    spec: jobs.Job,
    today: date,
    horizon_days: int,
    org_id: uuid.UUID | None,
    running: list[Running],
) -> JobFreshness:
    target = spec.target_for(today)
    earliest = ledger_queries.earliest_target(conn, spec.name, org_id)
    window = spec.due_window(target, horizon_days)
    horizon_start = window[0] if window is not None else target
    # Every gap before the horizon, in one statement; only the oldest few come back.
    gaps = ledger_queries.missing(
        conn,
        spec,
        max(jobs.EARLIEST_DATE, horizon_start - timedelta(days=BEYOND_LOOKBACK_DAYS)),
        horizon_start - timedelta(days=1),
        org_id,
        earliest=earliest,
        limit=BEYOND_SHOWN,
    )
    beyond = (
        Beyond(gaps.total, gaps.dates[0], gaps.newest, gaps.dates)
        if gaps.total and gaps.newest
        else Beyond()
    )
    return JobFreshness(
        job=spec.name,
        cadence=spec.cadence,
        target=target,
        latest=ledger_queries.latest_succeeded(conn, spec.name, org_id, on_or_before=today),
        stale=ledger_queries.is_stale(conn, spec, today, org_id),
        due=ledger_queries.due(conn, spec, target, horizon_days, org_id),
        beyond=beyond,
        running=running,
    )


# The running rows a scope may see: its own and every-organization runs (all for an operator).
_RUNNING = """
    SELECT id, job, target_date, trigger, request_kind, org_id, started_at,
           EXTRACT(EPOCH FROM clock_timestamp() - started_at) AS running_for_s
    FROM job_runs
    WHERE status = 'running' {scope}
    ORDER BY started_at, job, target_date
"""


def _running(conn: Connection, org_id: uuid.UUID | None) -> dict[str, list[Running]]:
    scope = "" if org_id is None else "AND (org_id IS NULL OR org_id = :org_id)"
    rows = conn.execute(text(_RUNNING.format(scope=scope)), {"org_id": org_id})
    by_job: dict[str, list[Running]] = {}
    for r in rows:
        by_job.setdefault(r.job, []).append(
            Running(
                r.id,
                r.job,
                r.target_date,
                r.trigger,
                r.request_kind,
                r.org_id,
                r.started_at.astimezone(UTC),
                float(r.running_for_s),
            )
        )
    return by_job


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
