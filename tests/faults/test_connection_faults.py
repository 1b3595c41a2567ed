"""A job's database connection fails mid-run: cut, silent, terminated, timed out, the server
gone for a while. Each time the run fails with one readable line, its ledger row closes, the
previous outputs stand byte for byte, its lock is freed, and a rerun succeeds (spec §8)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from opsmetrics import db as dbmod
from opsmetrics import freshness, runs
from opsmetrics.config import Settings
from opsmetrics.ledger import ABANDONED
from opsmetrics.run_results import RunSummary
from opsmetrics.run_session import FAILURE_RECORD_BACKOFF_S
from tests.faults.conftest import (
    JOB,
    PATIENCE_S,
    Scene,
    gate,
    only_run,
    outputs,
    total_bookings,
    wait_until_lock_free,
)
from tests.faults.proxy import Proxy
from tests.territory.fixture import D
from tests.trends import fixture as trends


@pytest.fixture
def proxied(fault_settings: Settings) -> Iterator[Engine]:
    engine = dbmod.build_engine(fault_settings.database_url or "", fault_settings)
    yield engine
    dbmod.ledger_engine(engine).dispose()
    engine.dispose()


def _faulted_run(
    db: Engine, engine: Engine, settings: Settings, fault: Callable[[int], None]
) -> tuple[RunSummary, float]:
    """Run D through `engine`; once it waits at the gate, inject `fault(pid of its session)`.
    Returns the summary and the seconds from the fault to the run's end."""
    done: list[RunSummary] = []
    worker = threading.Thread(
        target=lambda: done.append(
            runs.run(JOB, [D], trigger="manual", engine=engine, settings=settings)
        )
    )
    with gate(db) as g:
        worker.start()
        pid = g.wait_for_run()
        started = time.monotonic()
        fault(pid)
        worker.join(PATIENCE_S)
        took = time.monotonic() - started
        assert not worker.is_alive(), "the run hangs after the fault"
    return done[0], took


def _rerun_succeeds(db: Engine, scene: Scene) -> None:
    assert runs.run(JOB, [D], trigger="manual", engine=db).ok
    assert total_bookings(db, scene.world.a2) == 7  # 6 hand-counted + the one added by scene
    assert outputs(db) != scene.before


def _check_failed(db: Engine, scene: Scene, summary: RunSummary, line: str) -> None:
    [outcome] = summary.runs
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error.startswith(line), outcome.error
    assert "\n" not in outcome.error and "{" not in outcome.error  # one line, no raw dict
    assert only_run(db) == {"status": "failed", "error": outcome.error, "finished": True}
    assert outputs(db) == scene.before


def test_a_cut_connection_fails_the_run_at_once(
    db: Engine, scene: Scene, proxy: Proxy, proxied: Engine, fault_settings: Settings
) -> None:
    summary, took = _faulted_run(db, proxied, fault_settings, lambda pid: proxy.cut())
    _check_failed(db, scene, summary, "database connection lost: ")
    assert took < 5  # a reset is seen at once (the failure record is on a fresh connection)
    wait_until_lock_free(db)
    _rerun_succeeds(db, scene)


def test_a_silent_connection_fails_within_the_read_timeout_and_the_server_frees_the_lock(
    db: Engine, scene: Scene, proxy: Proxy, proxied: Engine, fault_settings: Settings
) -> None:
    summary, took = _faulted_run(db, proxied, fault_settings, lambda pid: proxy.blackhole())
    _check_failed(
        db,
        scene,
        summary,
        "database connection lost: no answer from the server within the read timeout",
    )
    # The read timeout, then once more for the ledger pool's own (also silent) connection before
    # a fresh one records the failure.
    assert fault_settings.read_timeout_s <= took < 2 * fault_settings.read_timeout_s + 3
    # The gate is released by now, yet the server-side session still sits behind a proxy that
    # keeps its socket open: its lock wait times out, then idle in its failed transaction
    # it is ended by idle_in_transaction_session_timeout, which frees the run's lock.
    freed = wait_until_lock_free(db)
    bound = fault_settings.lock_wait_s + fault_settings.idle_in_transaction_timeout_s + 3
    assert freed < bound
    _rerun_succeeds(db, scene)


def test_a_terminated_backend_fails_the_run_with_the_servers_reason(
    db: Engine, scene: Scene, proxied: Engine, fault_settings: Settings
) -> None:
    def terminate(pid: int) -> None:
        with db.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()

    summary, _ = _faulted_run(db, proxied, fault_settings, terminate)
    _check_failed(
        db,
        scene,
        summary,
        "database error 57P01 admin_shutdown: terminating connection due to administrator command",
    )
    wait_until_lock_free(db)
    _rerun_succeeds(db, scene)


def test_a_statement_timeout_fails_the_run_and_names_it(
    db: Engine, scene: Scene, settings: Settings
) -> None:
    quick = replace(settings, statement_timeout_ms=300)
    summary, _ = _faulted_run(db, db, quick, lambda pid: None)
    _check_failed(
        db,
        scene,
        summary,
        "database error 57014 query_canceled: canceling statement due to statement timeout",
    )
    wait_until_lock_free(db)
    _rerun_succeeds(db, scene)


def test_the_failure_record_is_retried_until_the_server_is_back(
    db: Engine, scene: Scene, proxy: Proxy, proxied: Engine, fault_settings: Settings
) -> None:
    def restart(pid: int) -> None:
        proxy.refuse_next(1)  # the first attempt to record the failure meets a closed door
        proxy.cut()

    summary, took = _faulted_run(db, proxied, fault_settings, restart)
    _check_failed(db, scene, summary, "database connection lost: ")
    assert took >= FAILURE_RECORD_BACKOFF_S[1]  # recorded by a later attempt
    _rerun_succeeds(db, scene)


def test_a_row_whose_failure_could_not_be_recorded_is_closed_by_status(
    db: Engine, scene: Scene, proxy: Proxy, proxied: Engine, fault_settings: Settings
) -> None:
    def gone(pid: int) -> None:
        proxy.refuse_for(PATIENCE_S)  # every attempt to record the failure fails
        proxy.cut()

    summary, _ = _faulted_run(db, proxied, fault_settings, gone)
    assert summary.runs[0].status == "failed"
    assert only_run(db)["status"] == "running"  # nothing could reach the database
    wait_until_lock_free(db)
    freshness.status(db, today=D, horizon_days=14)
    assert only_run(db) == {"status": "failed", "error": ABANDONED, "finished": True}
    assert outputs(db) == scene.before
    _rerun_succeeds(db, scene)


def test_a_cut_during_the_trend_batch_write_names_the_cut(
    db: Engine, proxy: Proxy, proxied: Engine, fault_settings: Settings
) -> None:
    """The trend job writes organizations in batches under savepoints and retries a failing
    batch one organization at a time; a lost connection is not an organization's fault, so it
    fails the run with its own cause (it used to surface as PendingRollbackError)."""
    job = "daily-trend-aggregation"
    with db.begin() as conn:
        orgs = trends.load_day(conn)
    assert runs.run(job, [trends.D], trigger="manual", engine=db).ok
    with db.begin() as conn:
        trends.insert_classifications(conn, [trends.classification(orgs.small)])
    before = outputs(db, "communication_trends")
    done: list[RunSummary] = []
    worker = threading.Thread(
        target=lambda: done.append(
            runs.run(job, [trends.D], trigger="manual", engine=proxied, settings=fault_settings)
        )
    )
    with gate(db, "communication_trends") as g:
        worker.start()
        g.wait_for_run()
        proxy.cut()
        worker.join(PATIENCE_S)
    [outcome] = done[0].runs
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert outcome.error.startswith("database connection lost: "), outcome.error
    assert outputs(db, "communication_trends") == before
    assert runs.run(job, [trends.D], trigger="manual", engine=db).ok
    assert outputs(db, "communication_trends") != before
