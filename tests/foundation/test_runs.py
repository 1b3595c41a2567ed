"""The shared run mechanism against PostgreSQL: job_runs ledger, advisory lock, date loop."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import jobs as jobs_
from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest, JobAlreadyRunning
from opsmetrics.job_context import JobFunction
from opsmetrics.one_date import run_one
from tests.factories import job_runs as _ledger
from tests.factories import org
from tests.foundation.sample_jobs import GATE_KEY_SQL, SCRATCH

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def _loader(name: str) -> Callable[[], JobFunction]:
    def load() -> JobFunction:
        from tests.foundation import sample_jobs

        fn: JobFunction = getattr(sample_jobs, name)
        return fn

    return load


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch, db: Engine) -> Iterator[Engine]:
    """Register the stand-in jobs and give them an empty scratch table."""
    for name, fn, cadence in [
        ("test-write", "write_job", "daily"),
        ("test-fail", "failing_job", "daily"),
        ("test-partial", "partial_job", "daily"),
        ("test-fail-2nd", "fails_on_the_2nd", "daily"),
        ("test-slow", "slow_job", "daily"),
        ("test-gated", "gated_on_the_1st", "daily"),
        ("test-weekly", "write_job", "weekly"),
        ("test-interrupted", "interrupted_job", "daily"),
        ("test-notify", "notifying_job", "daily"),
        ("test-notify-fails", "failing_after_writing_job", "daily"),
    ]:
        spec = jobs_.Job(name, cadence, "test", "", "", _loader(fn))  # type: ignore[arg-type]
        monkeypatch.setitem(jobs_.JOBS, name, spec)
    with db.begin() as conn:
        conn.execute(text(SCRATCH))
        conn.execute(text("TRUNCATE test_outputs"))
    yield db


def _outputs(engine: Engine) -> dict[date, int]:
    with engine.connect() as conn:
        return {
            r[0]: r[1] for r in conn.execute(text("SELECT target_date, value FROM test_outputs"))
        }


def test_a_successful_run_commits_outputs_and_its_ledger_row(
    jobs: Engine, settings: Settings
) -> None:
    summary = runs.run("test-write", [D1], trigger="manual", engine=jobs, settings=settings)
    assert summary.ok and summary.status == "succeeded"
    assert summary.runs[0].result == {"value": 42}
    assert _outputs(jobs) == {D1: 42}
    [row] = _ledger(jobs)
    assert (row["job"], row["target_date"], row["trigger"], row["status"], row["done"]) == (
        "test-write",
        D1,
        "manual",
        "succeeded",
        True,
    )
    assert row["stats"]["written"] == 1 and row["stats"]["rows_written"] == 1
    assert isinstance(row["stats"]["duration_ms"], int)
    assert row["error"] is None


def test_a_failed_run_rolls_back_and_records_one_line(jobs: Engine, settings: Settings) -> None:
    runs.run("test-write", [D1], trigger="manual", engine=jobs, settings=settings)
    # failing_job overwrites D1's row with -1 before raising: the rollback must undo it.
    monkey_spec = replace(jobs_.JOBS["test-fail"], name="test-write")
    fn = monkey_spec.load()
    out = run_one(
        monkey_spec, fn, D1, trigger="manual", engine=jobs, settings=settings, org_id=None
    )
    assert out.status == "failed"
    assert out.error == "RuntimeError: boom: the source table vanished"
    assert _outputs(jobs) == {D1: 42}
    statuses = [(r["status"], r["done"]) for r in _ledger(jobs)]
    assert statuses == [("succeeded", True), ("failed", True)]


def test_partial_run_names_the_failed_organizations(jobs: Engine, settings: Settings) -> None:
    summary = runs.run("test-partial", [D1], trigger="schedule", engine=jobs, settings=settings)
    assert summary.status == "partial" and not summary.ok
    [row] = _ledger(jobs)
    assert row["status"] == "partial"
    assert row["stats"]["failed_organizations"] == ["org-b"]
    assert _outputs(jobs) == {D1: 7}  # what did succeed is kept


def test_a_backfill_stops_at_the_first_failed_date(jobs: Engine, settings: Settings) -> None:
    seen: list[tuple[int, int, str]] = []
    summary = runs.run(
        "test-fail-2nd",
        [D3, D1, D2],
        trigger="backfill",
        engine=jobs,
        settings=settings,
        on_progress=lambda i, n, r: seen.append((i, n, r.status)),
    )
    assert [(r.target_date, r.status) for r in summary.runs] == [
        (D1, "succeeded"),
        (D2, "failed"),
        (D3, "skipped"),
    ]
    assert seen == [(1, 3, "succeeded"), (2, 3, "failed")]
    assert _outputs(jobs) == {D1: 42}
    assert [r["target_date"] for r in _ledger(jobs)] == [D1, D2]  # D3 never started


def test_rerun_replaces_rather_than_adds(jobs: Engine, settings: Settings) -> None:
    for _ in range(2):
        runs.run("test-write", [D1], trigger="manual", engine=jobs, settings=settings)
    assert _outputs(jobs) == {D1: 42}
    assert [r["status"] for r in _ledger(jobs)] == ["succeeded", "succeeded"]


@pytest.mark.parametrize(
    ("job", "dates", "org_id", "message"),
    [
        ("no-such-job", [D1], None, "unknown job"),
        ("test-weekly", [D2], None, "week-ending Sunday"),  # D2 is a Monday
        ("test-write", [], None, "no dates"),
        ("test-write", [D1], "not-a-uuid", "UUID"),
        ("test-write", [D1], str(uuid.uuid4()), "unknown organization"),
    ],
)
def test_bad_requests_write_nothing(
    jobs: Engine, settings: Settings, job: str, dates: list[date], org_id: str | None, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        runs.run(job, dates, trigger="manual", engine=jobs, settings=settings, org_id=org_id)
    assert _ledger(jobs) == []
    assert _outputs(jobs) == {}


def test_unknown_trigger_is_a_bad_request(jobs: Engine, settings: Settings) -> None:
    with pytest.raises(BadRequest, match="trigger"):
        runs.run("test-write", [D1], trigger="cron", engine=jobs, settings=settings)
    assert _ledger(jobs) == []


def test_a_known_organization_is_recorded_in_stats(jobs: Engine, settings: Settings) -> None:
    with jobs.begin() as conn:
        org_id = org(conn)
    runs.run(
        "test-write", [D1], trigger="manual", engine=jobs, settings=settings, org_id=str(org_id)
    )
    assert _ledger(jobs)[0]["stats"]["org_id"] == str(org_id)


def test_a_running_row_left_by_a_dead_process_is_closed(jobs: Engine, settings: Settings) -> None:
    with jobs.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (job, target_date, trigger, status, started_at)"
                " VALUES ('test-write', :d, 'schedule', 'running', now() - interval '1 hour')"
            ),
            {"d": D1},
        )
    runs.run("test-write", [D1], trigger="manual", engine=jobs, settings=settings)
    rows = _ledger(jobs)
    assert [(r["status"], r["done"]) for r in rows] == [("failed", True), ("succeeded", True)]
    assert rows[0]["error"].startswith("abandoned")


def _run_in_thread(
    engine: Engine, settings: Settings, job: str, out: list[Any]
) -> threading.Thread:
    def target() -> None:
        try:
            out.append(runs.run(job, [D1], trigger="schedule", engine=engine, settings=settings))
        except Exception as exc:  # surfaced through `out`
            out.append(exc)

    t = threading.Thread(target=target)
    t.start()
    return t


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.02)


def _wait_for_running(engine: Engine) -> None:
    _wait_for(
        "the first run's start", lambda: any(r["status"] == "running" for r in _ledger(engine))
    )


def _advisory_waits(engine: Engine) -> int:
    """Sessions of this database waiting for an advisory lock (the gate or a run's lock)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            ).scalar_one()
        )


@contextmanager
def gate_closed(engine: Engine) -> Iterator[None]:
    """Within the block, a run of test-gated for the 1st waits at the gate, in its transaction:
    its (job, date) lock held, its ledger row `running`."""
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_advisory_xact_lock({GATE_KEY_SQL})"))
        try:
            yield
        finally:
            conn.rollback()


def test_a_second_run_of_the_same_date_waits_for_the_first(
    jobs: Engine, settings: Settings
) -> None:
    first: list[Any] = []
    second: list[Any] = []
    with gate_closed(jobs):
        t1 = _run_in_thread(jobs, settings, "test-gated", first)
        _wait_for_running(jobs)
        t2 = _run_in_thread(jobs, settings, "test-gated", second)
        # the first at the gate, the second at the run's lock
        _wait_for("the second run's wait", lambda: _advisory_waits(jobs) == 2)
        assert len(_ledger(jobs)) == 1  # a waiting run has opened nothing
        seen_waiting = time.perf_counter()
    opened = time.perf_counter()
    t1.join()
    t2.join()
    assert first[0].ok and second[0].ok
    rows = _ledger(jobs)
    assert [r["status"] for r in rows] == ["succeeded", "succeeded"]
    assert rows[1]["started_at"] >= rows[0]["finished_at"]  # it began once the first was done
    assert rows[1]["stats"]["lock_wait_ms"] >= (opened - seen_waiting) * 1000 - 1


def test_a_second_run_that_cannot_wait_reports_and_leaves_nothing(
    jobs: Engine, settings: Settings
) -> None:
    first: list[Any] = []
    with gate_closed(jobs):
        t = _run_in_thread(jobs, settings, "test-gated", first)
        _wait_for_running(jobs)
        impatient = replace(settings, lock_wait_s=0)
        with pytest.raises(JobAlreadyRunning, match="already running"):
            runs.run("test-gated", [D1], trigger="manual", engine=jobs, settings=impatient)
    t.join()
    assert first[0].ok
    assert [r["status"] for r in _ledger(jobs)] == ["succeeded"]


def test_other_dates_do_not_wait(jobs: Engine, settings: Settings) -> None:
    first: list[Any] = []
    with gate_closed(jobs):
        t = _run_in_thread(jobs, settings, "test-gated", first)
        _wait_for_running(jobs)
        impatient = replace(settings, lock_wait_s=0)
        # the same job, another date, while the 1st is in progress
        other = runs.run("test-gated", [D2], trigger="manual", engine=jobs, settings=impatient)
        assert other.ok
        assert [r["status"] for r in _ledger(jobs)] == ["running", "succeeded"]
    t.join()
    assert first[0].ok


def test_an_interrupted_run_is_closed_and_the_interrupt_goes_on(
    jobs: Engine, settings: Settings
) -> None:
    with pytest.raises(KeyboardInterrupt):
        runs.run("test-interrupted", [D1, D2], trigger="backfill", engine=jobs, settings=settings)
    [row] = _ledger(jobs)
    assert (row["status"], row["error"], row["done"]) == ("failed", "interrupted: Ctrl-C", True)
    assert _outputs(jobs) == {}


def test_after_commit_sees_committed_outputs_and_its_failures_make_the_run_partial(
    jobs: Engine, settings: Settings
) -> None:
    from tests.foundation import sample_jobs

    sample_jobs.SEEN_AFTER_COMMIT.clear()
    summary = runs.run("test-notify", [D1], trigger="schedule", engine=jobs, settings=settings)
    assert sample_jobs.SEEN_AFTER_COMMIT == [5]
    assert summary.status == "partial"
    assert summary.runs[0].result == {"notified": 1}
    [row] = _ledger(jobs)
    assert row["status"] == "partial"
    assert row["stats"]["notified"] == 1 and row["stats"]["failed_organizations"] == ["org-x"]


def test_a_crashing_after_commit_step_keeps_the_outputs_and_says_why(
    jobs: Engine, settings: Settings
) -> None:
    summary = runs.run("test-notify-fails", [D1], trigger="manual", engine=jobs, settings=settings)
    assert summary.status == "partial"
    assert _outputs(jobs) == {D1: 6}
    [row] = _ledger(jobs)
    assert (row["status"], row["error"]) == ("partial", "after commit: RuntimeError: SNS is down")
