"""The calendar (spec §7) at the doors: valid date bounds everywhere, catch-up on demand and
on every scheduled tick, due dates from the ledger. Real PostgreSQL; the stand-in job writes a
scratch table so only the calendar is under test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import jobs, ledger_queries, runs
from opsmetrics.cli import EXIT_BAD_REQUEST, main
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest
from opsmetrics.events import parse_event
from opsmetrics.job_context import JobFunction
from tests.factories import insert_rows, org
from tests.factories import job_runs as _ledger
from tests.foundation.sample_jobs import SCRATCH

TODAY = date(2026, 12, 1)
DAILY = "daily-trend-aggregation"


def _row(job: str, day: date, status: str = "succeeded", org_id: Any = None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "job": job,
        "target_date": day,
        "trigger": "schedule",
        "status": status,
        "started_at": "2026-11-01T03:00:00Z",
        "finished_at": None if status == "running" else "2026-11-01T03:01:00Z",
        "org_id": org_id,
    }


# --- date bounds: every door refuses, nothing is written -------------------------------------


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        (date(1999, 12, 31), False),
        (date(2000, 1, 1), True),
        (TODAY + timedelta(days=366), True),
        (TODAY + timedelta(days=367), False),
        (date(9999, 12, 31), False),
        (date(1, 1, 1), False),
    ],
)
def test_valid_target_dates_are_2000_to_a_year_ahead(when: date, ok: bool) -> None:
    if ok:
        assert jobs.requested_dates(DAILY, today=TODAY, on=when) == [when]
        return
    with pytest.raises(BadRequest, match="outside the valid dates 2000-01-01 to 2027-12-02"):
        jobs.requested_dates(DAILY, today=TODAY, on=when)


def test_a_range_end_outside_the_bounds_is_refused() -> None:
    with pytest.raises(BadRequest, match="to 9999-12-31 is outside"):
        jobs.requested_dates(DAILY, today=TODAY, start=TODAY, end=date(9999, 12, 31))


@pytest.mark.parametrize("when", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_the_command_line_refuses_out_of_bounds_dates_and_writes_nothing(
    db_env: Engine, when: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "daily-territory-metrics", "--date", when])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_REQUEST, err
    assert "outside the valid dates" in err and len(err.strip().splitlines()) == 1
    assert _ledger(db_env) == []


@pytest.mark.parametrize(
    "event",
    [
        {"date": "9999-12-31"},
        {"from": "2026-11-01", "to": "2999-01-01"},
        {"scheduled_time": "2999-01-02T03:00:00Z"},
        {"date": "0001-01-01"},
    ],
)
def test_lambda_events_outside_the_bounds_are_refused(event: dict[str, str]) -> None:
    with pytest.raises(BadRequest, match="outside the valid dates"):
        parse_event(DAILY, event, TODAY)


def test_the_http_refresh_refuses_out_of_bounds_dates(db_env: Engine) -> None:
    from tests.http.doors import BOTH, LambdaDoor

    with db_env.begin() as conn:
        who = org(conn)
    answer = LambdaDoor().call(
        "POST", "/reports/territories/refresh", "date=2999-12-31", org=who, scopes=BOTH
    )
    assert answer.status == 400, answer.body
    assert "outside the valid dates" in answer.error
    assert _ledger(db_env) == []


# --- due dates --------------------------------------------------------------------------------


def test_due_dates_are_unsucceeded_dates_after_the_earliest_within_the_horizon(
    db: Engine,
) -> None:
    spec = jobs.job(DAILY)
    target = date(2026, 11, 30)
    with db.begin() as conn:
        someone = org(conn)
        insert_rows(
            conn,
            "job_runs",
            [
                _row(DAILY, date(2026, 11, 10)),  # the earliest target date
                _row(DAILY, date(2026, 11, 20)),
                _row(DAILY, date(2026, 11, 21), "failed"),
                _row(DAILY, date(2026, 11, 22), "partial"),
                _row(DAILY, date(2026, 11, 23), "succeeded", someone),  # one org only
                _row(DAILY, date(2026, 11, 24)),
                _row(DAILY, date(2026, 11, 25)),
                _row(DAILY, date(2026, 11, 26)),
                _row(DAILY, date(2026, 11, 27)),
                _row(DAILY, date(2026, 11, 28), "running"),
                _row(DAILY, date(2026, 11, 29)),
            ],
        )
    with db.connect() as conn:
        # The horizon is 16..29 November; before 10 November nothing is ever due.
        assert ledger_queries.due(conn, spec, target, 14, None) == [
            date(2026, 11, 16),
            date(2026, 11, 17),
            date(2026, 11, 18),
            date(2026, 11, 19),
            date(2026, 11, 21),
            date(2026, 11, 22),
            date(2026, 11, 23),
            date(2026, 11, 28),
        ]
        # for the one organization, its own run of the 23rd covers it
        assert date(2026, 11, 23) not in ledger_queries.due(conn, spec, target, 14, someone)
        assert ledger_queries.due(conn, spec, target, 3, None) == [date(2026, 11, 28)]
        assert ledger_queries.due(conn, spec, target, 0, None) == []
        assert ledger_queries.missing(conn, spec, date(2026, 11, 1), date(2026, 11, 15), None) == (
            ledger_queries.Missing(
                [date(2026, 11, d) for d in range(11, 16)], 5, date(2026, 11, 15)
            )
        )
        oldest_two = ledger_queries.missing(
            conn, spec, date(2026, 11, 1), date(2026, 11, 19), None, limit=2
        )
        assert oldest_two == ledger_queries.Missing(
            [date(2026, 11, 11), date(2026, 11, 12)], 9, date(2026, 11, 19)
        )


def test_a_run_for_one_organization_moves_only_its_own_calendar(db: Engine) -> None:
    """The calendar starts at the earliest run covering the scope: a tenant's refresh of an old
    date makes the dates since due for that tenant, never for everybody."""
    spec = jobs.job(DAILY)
    with db.begin() as conn:
        tenant = org(conn)
        insert_rows(
            conn,
            "job_runs",
            [
                _row(DAILY, date(2026, 11, 1), "succeeded", tenant),
                _row(DAILY, date(2026, 11, 20)),
            ],
        )
    target = date(2026, 11, 30)
    with db.connect() as conn:
        assert ledger_queries.due(conn, spec, target, 14, None) == [
            date(2026, 11, d) for d in range(21, 30)
        ]
        assert ledger_queries.due(conn, spec, target, 14, tenant) == [
            date(2026, 11, d) for d in range(16, 30) if d != 20
        ]


def test_weekly_due_dates_are_sundays(db: Engine) -> None:
    spec = jobs.job("weekly-hiring-triggers")
    with db.begin() as conn:
        insert_rows(conn, "job_runs", [_row(spec.name, date(2026, 11, 1))])
    with db.connect() as conn:
        assert ledger_queries.due(conn, spec, date(2026, 11, 29), 14, None) == [
            date(2026, 11, 15),
            date(2026, 11, 22),
        ]


# --- catch-up ----------------------------------------------------------------------------------


@pytest.fixture
def scratch_job(monkeypatch: pytest.MonkeyPatch, db_env: Engine) -> Iterator[Engine]:
    """DAILY's function replaced by the stand-in that writes test_outputs."""

    def load() -> JobFunction:
        from tests.foundation.sample_jobs import write_job

        return write_job

    from dataclasses import replace

    monkeypatch.setitem(jobs.JOBS, DAILY, replace(jobs.JOBS[DAILY], load=load))
    with db_env.begin() as conn:
        conn.execute(text(SCRATCH))
        conn.execute(text("TRUNCATE test_outputs"))
    yield db_env


def _written(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT target_date FROM test_outputs ORDER BY 1"))]


def test_catch_up_runs_the_due_dates_oldest_first_then_the_target(
    scratch_job: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday = runs.today_utc() - timedelta(days=1)
    first = yesterday - timedelta(days=20)
    with scratch_job.begin() as conn:
        insert_rows(
            conn,
            "job_runs",
            [_row(DAILY, first), _row(DAILY, yesterday - timedelta(days=3), "failed")],
        )
    assert main(["run", DAILY, "--catch-up"]) == 0, capsys.readouterr().err
    # horizon: the 14 days before yesterday; all of them are due (none succeeded)
    expected = [yesterday - timedelta(days=d) for d in range(14, -1, -1)]
    assert _written(scratch_job) == expected
    runs_made = [r for r in _ledger(scratch_job) if r["trigger"] == "manual"]
    assert [r["target_date"] for r in runs_made] == expected
    assert {r["request_kind"] for r in runs_made} == {"catch-up"}
    assert len({r["request_id"] for r in runs_made}) == 1
    # nothing is due any more: a second catch-up runs only the target
    assert main(["run", DAILY, "--catch-up"]) == 0
    again = [r for r in _ledger(scratch_job) if r["trigger"] == "manual"][len(expected) :]
    assert [r["target_date"] for r in again] == [yesterday]


def test_catch_up_takes_no_dates(scratch_job: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", DAILY, "--catch-up", "--date", "2026-11-01"]) == EXIT_BAD_REQUEST
    assert "give no dates" in capsys.readouterr().err


def test_a_scheduled_tick_catches_up_and_stops_at_a_failed_date(
    scratch_job: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsmetrics.lambda_jobs import JobFailed, run_job_event

    tick_day = date(2026, 11, 20)
    with scratch_job.begin() as conn:
        insert_rows(conn, "job_runs", [_row(DAILY, date(2026, 11, 15))])
    monkeypatch.setenv("OPSMETRICS_CATCHUP_DAYS", "3")

    def load() -> JobFunction:
        from tests.foundation.sample_jobs import fails_on_the_17th

        return fails_on_the_17th

    from dataclasses import replace

    monkeypatch.setitem(jobs.JOBS, DAILY, replace(jobs.JOBS[DAILY], load=load))
    with pytest.raises(JobFailed) as failed:
        run_job_event(DAILY, {"scheduled_time": f"{tick_day}T03:00:00Z"})
    # due within 3 days before the 19th: 16, 17, 18; the 17th fails, the 18th and 19th wait
    statuses = [(r["target_date"], r["status"]) for r in failed.value.summary["runs"]]
    assert statuses == [
        ("2026-11-16", "succeeded"),
        ("2026-11-17", "failed"),
        ("2026-11-18", "skipped"),
        ("2026-11-19", "skipped"),
    ]
    assert _written(scratch_job) == [date(2026, 11, 16)]
    schedule_runs = [r for r in _ledger(scratch_job) if r["trigger"] == "schedule"][1:]
    assert {r["request_kind"] for r in schedule_runs} == {"schedule"}
