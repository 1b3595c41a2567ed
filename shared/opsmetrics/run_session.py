"""The job transaction's guards: its session limits, its advisory locks, and the failure record
that closes its ledger row whatever happened to the connection (see docs/reliability.md)."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from opsmetrics import ledger
from opsmetrics.config import Settings
from opsmetrics.db import ledger_engine
from opsmetrics.errors import JobAlreadyRunning, one_line, sqlstate
from opsmetrics.ledger import LOCK_KEY_SQL

# A failure record is retried on a fresh connection this many times, this long apart (seconds):
# a connection cut or a server restart usually heals within a few seconds. If every attempt
# fails, the row stays `running` with its lock free, and the next run of any job, or
# `opsmetrics status`, closes it as abandoned (ledger.sweep_abandoned).
FAILURE_RECORD_BACKOFF_S = (0.0, 0.5, 2.0)


def record_failure(engine: Engine, run_id: uuid.UUID, stats: dict[str, Any], error: str) -> bool:
    """Close the run's row as failed through the ledger's own pool; whether it was written."""
    from opsmetrics.observability import logger

    writer = ledger_engine(engine)
    for pause in FAILURE_RECORD_BACKOFF_S:
        time.sleep(pause)
        try:
            with writer.begin() as record:
                ledger.close_run(record, run_id, "failed", stats, error)
            return True
        except Exception as exc:  # pg8000 lets some socket errors through unwrapped
            logger().warning("could not record the failure yet", extra={"error": one_line(exc)})
            writer.dispose()  # the next attempt opens a fresh connection
    return False


def rollback_quietly(conn: Connection) -> None:
    """Roll back the job's transaction; on a lost connection there is nothing left to undo (the
    server has rolled it back and released the lock)."""
    try:
        conn.rollback()
    except Exception:  # a DBAPIError, or a socket error pg8000 did not wrap
        conn.invalidate()


# How often the server checks, while a job's statement runs, that the client is still there (a
# killed process): it then stops the statement, rolls back and releases the lock (PostgreSQL 14+).
CLIENT_CHECK_MS = 5000


def bound_session(conn: Connection, settings: Settings) -> None:
    """The job transaction's own limits (SET LOCAL, ended with the transaction, so nothing leaks
    to the pool or pins an RDS Proxy connection beyond it): each statement's run time, each lock
    wait, how long the session may sit idle inside the transaction (a client gone silent) before
    the server ends it and releases the run's lock, and how soon a vanished client is noticed."""
    conn.execute(
        text(
            "SELECT set_config('statement_timeout', :statement, true),"
            " set_config('lock_timeout', :lock, true),"
            " set_config('idle_in_transaction_session_timeout', :idle, true),"
            " set_config('client_connection_check_interval', :check, true)"
        ),
        {
            "statement": str(settings.statement_timeout_ms),
            "lock": str(statement_lock_ms(settings)),
            "idle": str(max(settings.idle_in_transaction_timeout_s, 1) * 1000),
            "check": str(CLIENT_CHECK_MS),
        },
    )


def acquire_run_lock(conn: Connection, job: str, target: date | None, settings: Settings) -> None:
    """The (job, date) lock; with no date, the whole job's (ledger.JOB_LOCK_DAY)."""
    what = f"for {target}" if target else "(another date of it, whose run rewrites later dates)"
    waited = f" (waited {settings.lock_wait_s}s)" if settings.lock_wait_s else ""
    take_locks(
        conn,
        settings,
        f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL.format(job=':job', day=':day')})",
        {"job": job, "day": target or ledger.JOB_LOCK_DAY},
        busy=f"{job} {what} is already running elsewhere{waited}; try again when it has finished",
    )


def take_locks(
    conn: Connection, settings: Settings, statement: str, params: dict[str, Any], *, busy: str
) -> None:
    """Run `statement` (it takes a run's advisory locks), waiting at most settings.lock_wait_s
    (0: not at all), else JobAlreadyRunning(busy); then every later statement of the job waits
    at most statement_lock_ms for a lock."""
    conn.execute(
        text("SELECT set_config('lock_timeout', :ms, true)"),
        {"ms": str(settings.lock_wait_s * 1000 or 1)},
    )
    try:
        conn.execute(text(statement), params)
    except DBAPIError as exc:
        if sqlstate(exc)[0] == "55P03":  # lock_not_available: lock_timeout ran out
            raise JobAlreadyRunning(busy) from None
        raise
    conn.execute(
        text("SELECT set_config('lock_timeout', :ms, true)"),
        {"ms": str(statement_lock_ms(settings))},
    )


def statement_lock_ms(settings: Settings) -> int:
    """How long a job's statement may wait for a lock: the run-lock wait, or when runs do not
    wait for each other (HTTP), the statement timeout."""
    return settings.lock_wait_s * 1000 or settings.statement_timeout_ms
