"""The job_runs writes (spec §2, §8): open and close a run, close abandoned ones, reserve an HTTP
run. What the calendar reads from the ledger is in ledger_queries.py."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, text

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
