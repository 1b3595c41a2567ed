"""A command-line run's process ends mid-run: SIGTERM (a stopped container, `kill`) is handled like
Ctrl-C, and SIGKILL leaves a `running` row that the next `opsmetrics status` closes. Either
way the server ends the run's session within its client check, the lock is freed, the previous
outputs stand byte for byte, and a rerun succeeds (spec §8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from opsmetrics.ledger import ABANDONED
from opsmetrics.run_session import CLIENT_CHECK_MS
from tests.factories import holding_run_lock
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
from tests.territory.fixture import D

OPSMETRICS = str(Path(sys.executable).with_name("opsmetrics"))
# The server notices a vanished client within its check interval; a little more for the poll.
SESSION_ENDS_WITHIN_S = CLIENT_CHECK_MS / 1000 + 3


def _cli(
    database_url: str,
    *args: str,
    statement_timeout_ms: str = "120000",
    lock_wait_s: str = "60",
) -> subprocess.Popen[str]:
    # Waits far longer than SESSION_ENDS_WITHIN_S: only the server's client check can end a
    # vanished run's session that soon.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OPSMETRICS_LOCK_WAIT_SECONDS": lock_wait_s,
        "DB_STATEMENT_TIMEOUT_MS": statement_timeout_ms,
    }
    env.pop("DB_SECRET_ARN", None)
    return subprocess.Popen(
        [OPSMETRICS, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rerun(database_url: str) -> subprocess.CompletedProcess[str]:
    process = _cli(database_url, "run", JOB, "--date", D.isoformat())
    out, err = process.communicate(timeout=PATIENCE_S)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_run_whose_process_ends_is_closed_and_frees_its_lock(
    db: Engine, scene: Scene, database_url: str, how: str
) -> None:
    with gate(db) as g:
        process = _cli(database_url, "run", JOB, "--date", D.isoformat())
        g.wait_for_run()
        process.send_signal(getattr(signal, how))
        _, err = process.communicate(timeout=PATIENCE_S)
        # The gate still holds the statement the run was waiting in: its session ends because
        # its client went away, not because the statement finished.
        assert wait_until_lock_free(db) < SESSION_ENDS_WITHIN_S
    if how == "SIGTERM":
        assert process.returncode == 128 + signal.SIGTERM
        assert err.strip().splitlines()[-1] == "opsmetrics run: terminated (SIGTERM)"
        assert "Traceback" not in err
        expected = {
            "status": "failed",
            "error": "interrupted: the process was terminated (SIGTERM)",
            "finished": True,
        }
        assert only_run(db) == expected
    else:
        assert process.returncode == -signal.SIGKILL
        assert only_run(db)["status"] == "running"  # nobody could close it
        status = _cli(database_url, "status")
        status.communicate(timeout=PATIENCE_S)
        assert only_run(db) == {"status": "failed", "error": ABANDONED, "finished": True}
    assert outputs(db) == scene.before
    again = _rerun(database_url)
    assert again.returncode == 0, again.stderr
    assert total_bookings(db, scene.world.a2) == 7


def test_a_statement_timeout_on_the_command_line_is_one_line_and_exit_1(
    db: Engine, scene: Scene, database_url: str
) -> None:
    with gate(db):
        process = _cli(
            database_url, "run", JOB, "--date", D.isoformat(), statement_timeout_ms="300"
        )
        out, err = process.communicate(timeout=PATIENCE_S)
    line = "database error 57014 query_canceled: canceling statement due to statement timeout"
    assert process.returncode == 1
    assert f"{JOB} {D} failed: {line}" in out.splitlines()
    assert "Traceback" not in out + err
    assert only_run(db) == {"status": "failed", "error": line, "finished": True}
    assert outputs(db) == scene.before
    assert _rerun(database_url).returncode == 0


def test_sigterm_while_waiting_for_the_run_lock_ends_the_wait_on_the_server(
    db: Engine, scene: Scene, database_url: str
) -> None:
    """A run interrupted before it holds its lock has no ledger row to close, but its session,
    still queued on the lock, must not wait on for the rest of the lock wait."""
    with holding_run_lock(db, JOB, D):
        process = _cli(database_url, "run", JOB, "--date", D.isoformat())
        waiting = _wait_for_lock_waiter(db)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=PATIENCE_S)
        assert process.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in err
        # The lock is still held by the test: the session ends because its client went away.
        deadline = time.monotonic() + SESSION_ENDS_WITHIN_S
        while _alive(db, waiting) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(db, waiting)
    assert outputs(db) == scene.before
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM job_runs WHERE target_date = :d AND trigger = 'manual'"),
            {"d": D},
        ).scalar_one()
    assert rows == 1  # the scene's first run only: the interrupted one never started


def _wait_for_lock_waiter(engine: Engine) -> int:
    """The pid of the session (in this database) queued on a run's advisory lock."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("the run never waited for the lock")


def _alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one()
        )
