"""The fault suite's fixtures: a proxy between the code and the test database, a gate that holds a
job in the middle of its transaction, and a fingerprint of the outputs.

Every fault test follows one script: compute a date (the previous outputs), change the source
data, start a run of the same date that the gate holds after its ledger row is open and before
it writes, inject the fault, then check the ledger row, the error line, that the outputs are
byte for byte the previous ones, that the run's lock is free, and that a rerun succeeds with
the changed data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.ledger import LOCK_KEY_SQL
from tests.faults.proxy import Proxy
from tests.territory.fixture import D, World, bookings, build_world, day

JOB = "daily-territory-metrics"
# Fault tests wait this long at most for anything they expect to happen.
PATIENCE_S = 30.0


@pytest.fixture
def proxy(database_url: str) -> Iterator[Proxy]:
    url = make_url(database_url)
    sock = url.query.get("unix_sock")
    upstream: tuple[str, int] | str = (
        str(sock) if isinstance(sock, str) else (url.host or "127.0.0.1", url.port or 5432)
    )
    p = Proxy(upstream)
    yield p
    p.close()


@pytest.fixture
def proxied_url(proxy: Proxy, database_url: str) -> str:
    """The test database, reached through the proxy."""
    url = make_url(database_url)
    query = {k: v for k, v in url.query.items() if k != "unix_sock"}
    return url.set(host="127.0.0.1", port=proxy.port, query=query).render_as_string(
        hide_password=False
    )


@pytest.fixture
def fault_settings(proxied_url: str) -> Settings:
    """Short limits, so that each fault shows within seconds: a read waits at most 3 s, a session
    idle in its transaction lives 2 s."""
    return Settings(
        database_url=proxied_url,
        lock_wait_s=5,
        statement_timeout_ms=20_000,
        db_read_timeout_s=3,
        idle_in_transaction_timeout_s=2,
    )


@dataclass(frozen=True)
class Scene:
    world: World
    before: str  # fingerprint of the outputs before the faulted run


@pytest.fixture
def scene(db: Engine) -> Scene:
    """D computed once; then one more confirmed booking for A2 (M1 4) in D's window, so that a
    run that got through would change A2's row (6 -> 7 bookings)."""
    world = build_world(db)
    assert runs.run(JOB, [D], trigger="manual", engine=db).ok
    with db.begin() as conn:
        bookings(conn, world.org_a, [("M1 4ZZ", "confirmed", day(-1))])
    return Scene(world, outputs(db))


def outputs(engine: Engine, table: str = "territory_metrics") -> str:
    """md5 of every row of an output table, in key order: equal means byte for byte equal."""
    with engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    f" FROM {table} t"
                )
            ).scalar_one()
        )


def total_bookings(engine: Engine, territory: object, when: date = D) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT total_bookings FROM territory_metrics"
                    " WHERE territory_id = :t AND metric_date = :d"
                ),
                {"t": territory, "d": when},
            ).scalar_one()
        )


class Gate:
    """Holds an output table in EXCLUSIVE mode: a run reads and computes, then waits at its
    first write, inside its transaction, with its ledger row open and its lock held."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def wait_for_run(self) -> int:
        """The pid of the run's session once it waits at the gate."""
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            with self.conn.engine.connect() as probe:
                pid = probe.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE CAST(:gate AS int) = ANY(pg_blocking_pids(pid))"
                    ),
                    {"gate": self.pid},
                ).scalar()
            if pid is not None:
                return int(pid)
            time.sleep(0.05)
        raise AssertionError("the run never reached the gate")


@contextmanager
def gate(engine: Engine, table: str = "territory_metrics") -> Iterator[Gate]:
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        try:
            yield Gate(conn)
        finally:
            conn.rollback()


def wait_until_lock_free(engine: Engine, when: date = D) -> float:
    """Seconds until the (job, date) advisory lock is free (the run's session is gone)."""
    started = time.monotonic()
    key = LOCK_KEY_SQL.format(job=":job", day=":day")
    while time.monotonic() - started < PATIENCE_S:
        with engine.begin() as conn:
            free = conn.execute(
                text(f"SELECT pg_try_advisory_xact_lock({key})"), {"job": JOB, "day": when}
            ).scalar_one()
        if free:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the lock of {JOB} {when} is still held after {PATIENCE_S} s")


def only_run(engine: Engine, when: date = D) -> dict[str, object]:
    """The ledger row of the faulted run (the newest of the date)."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT status, error, finished_at IS NOT NULL AS finished FROM job_runs"
                    " WHERE job = :job AND target_date = :d ORDER BY started_at DESC LIMIT 1"
                ),
                {"job": JOB, "d": when},
            )
            .mappings()
            .one()
        )
    return dict(row)
