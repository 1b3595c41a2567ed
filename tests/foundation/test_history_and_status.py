"""`opsmetrics runs` and `opsmetrics status` (history.py, freshness.py, ledger_views.py) against
hand-made ledgers: job_runs rows inserted directly, with the answers worked out by hand below.

Today is Monday 2026-11-23 throughout, the catch-up horizon 14 days: the daily jobs' target is
2026-11-22 and their due window 2026-11-08..21; the weekly job's target is Sunday 2026-11-22 and
its due window holds the Sundays 2026-11-08 and 2026-11-15.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from opsmetrics import cli, cli_args, freshness, history
from opsmetrics.errors import BadRequest
from opsmetrics.jobs import JOBS
from opsmetrics.ledger import ABANDONED, LOCK_KEY_SQL
from opsmetrics.ledger_views import render_runs, render_status, short_stats, took
from tests.factories import insert_rows, org

TODAY = date(2026, 11, 23)
DAILY, WEEKLY, TRENDS = (
    "daily-territory-metrics",
    "weekly-hiring-triggers",
    "daily-trend-aggregation",
)
# The jobs these tests arrange by hand; any other job of the model gets a fresh run where a test
# needs every job fresh (`_all_fresh`, `_others_fresh`), so adding a job breaks none of them.
NAMED = (DAILY, WEEKLY, TRENDS)
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def day(text_: str) -> date:
    return date.fromisoformat(text_)


def run_row(
    job: str,
    target: date,
    status: str = "succeeded",
    *,
    org_id: uuid.UUID | None = None,
    started: datetime | None = None,
    seconds: float = 2.0,
    trigger: str = "schedule",
    error: str | None = None,
    stats: dict[str, Any] | None = None,
    request_id: uuid.UUID | None = None,
    request_kind: str = "schedule",
) -> dict[str, Any]:
    started = started or datetime.combine(target + timedelta(days=1), datetime.min.time(), UTC)
    return {
        "id": uuid.uuid4(),
        "job": job,
        "target_date": target,
        "trigger": trigger,
        "status": status,
        "started_at": started,
        "finished_at": None if status == "running" else started + timedelta(seconds=seconds),
        "stats": stats or {},
        "error": error,
        "org_id": org_id,
        "request_id": request_id,
        "request_kind": request_kind,
    }


def days_between(first: str, last: str, step: int = 1) -> list[date]:
    start, end = day(first), day(last)
    return [start + timedelta(days=i) for i in range(0, (end - start).days + 1, step)]


@pytest.fixture
def orgs(db: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with db.begin() as conn:
        return org(conn, "Acme Medics"), org(conn, "Beta Care")


def _hold_lock(conn: Connection, job: str, target: date) -> None:
    """What a live run does for as long as its row is `running`."""
    conn.execute(
        text(f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL.format(job=':job', day=':day')})"),
        {"job": job, "day": target},
    )


def _status(engine: Engine, org_id: uuid.UUID | None = None) -> freshness.Freshness:
    return freshness.status(engine, today=TODAY, horizon_days=14, org_id=org_id)


def _of(found: freshness.Freshness, job: str) -> freshness.JobFreshness:
    """One job's freshness, by name (not by its place in the job model)."""
    return next(j for j in found.jobs if j.job == job)


def _fresh_rows(jobs: Iterable[str], org_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """A succeeded run of each job on its target for TODAY, and nothing else."""
    return [run_row(job, JOBS[job].target_for(TODAY), org_id=org_id) for job in jobs]


def _others_fresh() -> list[dict[str, Any]]:
    """Every job of the model but the three named above: fresh, so it needs no attention."""
    return _fresh_rows(name for name in JOBS if name not in NAMED)


# --- status: a ledger with something of everything ------------------------------------------------


@pytest.fixture
def ledger(db: Engine, orgs: tuple[uuid.UUID, uuid.UUID]) -> Engine:
    """daily-territory-metrics: every day from 2026-10-20 to 11-22 succeeded for every
    organization, except 10-25, 10-26 and 11-07 (no run at all: beyond the horizon), 11-10 (only a
    failed run: due) and 11-12 (succeeded for organization A only: due for everyone, not for A).

    weekly-hiring-triggers: Sundays 11-01 to 11-22 succeeded; 11-22 is being rerun right now by a
    live run (lock held in the test).

    daily-trend-aggregation: 11-20 and 11-21 succeeded, 11-22 never: stale. A `running` row for
    11-22 whose process is gone (its lock is free): abandoned.

    Any other job: fresh on its target.
    """
    a, _b = orgs
    skipped = {day("2026-10-25"), day("2026-10-26"), day("2026-11-07"), day("2026-11-10")}
    skipped.add(day("2026-11-12"))
    rows = [run_row(DAILY, d) for d in days_between("2026-10-20", "2026-11-22") if d not in skipped]
    rows += [
        run_row(DAILY, day("2026-11-10"), "failed", error="RuntimeError: boom"),
        run_row(DAILY, day("2026-11-12"), org_id=a, trigger="manual"),
        *(run_row(WEEKLY, d) for d in days_between("2026-11-01", "2026-11-22", 7)),
        run_row(TRENDS, day("2026-11-20")),
        run_row(TRENDS, day("2026-11-21")),
    ]
    now = datetime.now(UTC)
    rows += [
        run_row(WEEKLY, day("2026-11-22"), "running", started=now - timedelta(minutes=5)),
        run_row(TRENDS, day("2026-11-22"), "running", started=now - timedelta(hours=3)),
        *_others_fresh(),
    ]
    with db.begin() as conn:
        insert_rows(conn, "job_runs", rows)
    return db


@pytest.fixture
def live_weekly(ledger: Engine) -> Iterator[Engine]:
    with ledger.connect() as holder:
        holder.begin()
        _hold_lock(holder, WEEKLY, day("2026-11-22"))
        yield ledger
        holder.rollback()


def test_status_of_every_job_worked_out_by_hand(live_weekly: Engine) -> None:
    found = _status(live_weekly)
    daily = _of(found, DAILY)
    assert daily.target == day("2026-11-22")
    assert daily.latest is not None and daily.latest.target_date == day("2026-11-22")
    assert not daily.stale
    assert daily.due == [day("2026-11-10"), day("2026-11-12")]
    # 11-07 is the day before the horizon starts (11-08): beyond it, with 10-25 and 10-26.
    assert daily.beyond == freshness.Beyond(
        3,
        day("2026-10-25"),
        day("2026-11-07"),
        [day("2026-10-25"), day("2026-10-26"), day("2026-11-07")],
    )
    assert not daily.healthy

    weekly = _of(found, WEEKLY)
    assert (weekly.stale, weekly.due, weekly.beyond.count) == (False, [], 0)
    assert weekly.healthy  # a rerun in progress does not make a job unhealthy
    [running] = weekly.running
    assert running.target_date == day("2026-11-22") and running.org_id is None
    assert 290 <= running.running_for_s <= 600

    trends = _of(found, TRENDS)
    assert trends.stale and trends.due == [] and trends.running == []
    assert trends.latest is not None and trends.latest.target_date == day("2026-11-21")

    assert found.abandoned_closed == 1 and not found.healthy


def test_status_closes_the_abandoned_run_and_keeps_the_live_one(live_weekly: Engine) -> None:
    _status(live_weekly)
    with live_weekly.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT job, status, error, finished_at IS NOT NULL AS done FROM job_runs"
                " WHERE target_date = '2026-11-22' AND job IN (:weekly, :trends)"
                " ORDER BY job, status"
            ),
            {"weekly": WEEKLY, "trends": TRENDS},
        ).all()
    assert [tuple(r) for r in rows] == [
        (TRENDS, "failed", ABANDONED, True),
        (WEEKLY, "running", None, False),
        (WEEKLY, "succeeded", None, True),
    ]


def test_an_organizations_view_counts_its_own_runs(
    live_weekly: Engine, orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = orgs
    assert _of(_status(live_weekly, a), DAILY).due == [day("2026-11-10")]
    assert _of(_status(live_weekly, b), DAILY).due == [
        day("2026-11-10"),
        day("2026-11-12"),
    ]


def test_status_json_and_table(live_weekly: Engine) -> None:
    found = _status(live_weekly)
    body = json.loads(render_status(found, "json"))
    assert body["healthy"] is False and body["today"] == "2026-11-23"
    daily = next(j for j in body["jobs"] if j["job"] == DAILY)
    assert daily["due"] == ["2026-11-10", "2026-11-12"]
    assert daily["due_beyond_horizon"] == {
        "count": 3,
        "oldest": "2026-10-25",
        "newest": "2026-11-07",
        "dates": ["2026-10-25", "2026-10-26", "2026-11-07"],
    }
    table = render_status(found, "table")
    assert "2 job(s) need attention" in table
    assert "due within 14 days: 2026-11-10, 2026-11-12" in table
    assert f"opsmetrics run {DAILY} --from 2026-10-25 --to 2026-11-07" in table
    assert f"{TRENDS} — NEEDS ATTENTION: STALE;" in table and f"{WEEKLY} — ok;" in table
    assert f"catch up now: opsmetrics run {TRENDS} --catch-up" in table
    assert f"{DAILY} — NEEDS ATTENTION: DUE, GAPS;" in table
    assert "running: 2026-11-22 for 5m" in table


def test_beyond_the_horizon_lists_the_oldest_and_counts_all(db: Engine) -> None:
    # Succeeded on 2026-01-01 and from the horizon on: every day from 01-02 to 11-07 is missing.
    rows = [run_row(DAILY, day("2026-01-01"))]
    rows += [run_row(DAILY, d) for d in days_between("2026-11-08", "2026-11-22")]
    with db.begin() as conn:
        insert_rows(conn, "job_runs", rows)
    beyond = _of(_status(db), DAILY).beyond
    assert beyond.count == (day("2026-11-07") - day("2026-01-02")).days + 1 == 310
    assert (beyond.oldest, beyond.newest) == (day("2026-01-02"), day("2026-11-07"))
    assert beyond.dates == days_between("2026-01-02", "2026-01-21")  # the oldest 20


# --- exit codes -----------------------------------------------------------------------------------


@pytest.fixture
def cli_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_args, "today", lambda: TODAY)


def _all_fresh(engine: Engine, org_id: uuid.UUID | None = None) -> None:
    """Each job of the model succeeded on its target and nowhere else: nothing before it is
    due."""
    with engine.begin() as conn:
        insert_rows(conn, "job_runs", _fresh_rows(JOBS, org_id))


def test_status_exits_0_when_every_job_is_fresh(
    db_env: Engine, cli_today: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _all_fresh(db_env)
    assert cli.main(["status"]) == 0
    assert "all fresh, nothing due" in capsys.readouterr().out


def test_status_exits_1_when_stale_or_due(
    db_env: Engine, cli_today: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["status"]) == 1  # nothing ever ran: every job is stale
    _all_fresh(db_env)
    with db_env.begin() as conn:  # a failed run on 11-15 makes 11-16..21 later than the earliest
        insert_rows(conn, "job_runs", [run_row(TRENDS, day("2026-11-15"), "failed")])
    capsys.readouterr()
    assert cli.main(["status", "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    trends = next(j for j in body["jobs"] if j["job"] == TRENDS)
    assert trends["due"] == [f"2026-11-{d}" for d in range(16, 22)]
    assert {j["job"]: j["healthy"] for j in body["jobs"]} == {job: job != TRENDS for job in JOBS}


def test_status_of_one_organization(
    db_env: Engine,
    orgs: tuple[uuid.UUID, uuid.UUID],
    cli_today: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = orgs
    _all_fresh(db_env, org_id=a)  # runs limited to A cover A only
    assert cli.main(["status", "--org", str(a)]) == 0
    assert cli.main(["status", "--org", str(b)]) == 1
    assert cli.main(["status"]) == 1
    capsys.readouterr()
    assert cli.main(["status", "--org", str(uuid.uuid4())]) == 2
    assert "unknown organization" in capsys.readouterr().err


# --- runs: the ledger newest first ----------------------------------------------------------------


@pytest.fixture
def history_rows(db: Engine, orgs: tuple[uuid.UUID, uuid.UUID]) -> dict[str, uuid.UUID]:
    """Six runs, started a minute apart in this order (so newest first is the reverse)."""
    a, b = orgs
    backfill = uuid.uuid4()
    specs = [
        ("r1", run_row(DAILY, day("2026-11-01"), request_kind="backfill", request_id=backfill)),
        ("r2", run_row(DAILY, day("2026-11-02"), request_kind="backfill", request_id=backfill)),
        ("r3", run_row(TRENDS, day("2026-11-02"), "failed", error="Boom: first\n  second line")),
        ("r4", run_row(DAILY, day("2026-11-03"), org_id=a, trigger="manual", seconds=0.5)),
        ("r5", run_row(DAILY, day("2026-11-03"), org_id=b, trigger="http", stats={"rows": 3})),
        ("r6", run_row(WEEKLY, day("2026-11-01"), "running")),
    ]
    rows = []
    for i, (_name, row) in enumerate(specs):
        row["started_at"] = T0 + timedelta(minutes=i)
        if row["finished_at"] is not None:
            row["finished_at"] = row["started_at"] + timedelta(seconds=2 if i != 3 else 0.5)
        rows.append(row)
    with db.begin() as conn:
        insert_rows(conn, "job_runs", rows)
    ids = {name: row["id"] for name, row in specs}
    ids["backfill"] = backfill
    return ids


def _names(page: history.RunPage, ids: dict[str, uuid.UUID]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[r["run_id"]] for r in page.runs]


def _list(engine: Engine, **given: Any) -> history.RunPage:
    with engine.connect() as conn:
        return history.list_runs(conn, history.run_filter(**given))


def test_runs_newest_first_and_filtered(
    db: Engine, history_rows: dict[str, uuid.UUID], orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = orgs
    ids = history_rows
    assert _names(_list(db), ids) == ["r6", "r5", "r4", "r3", "r2", "r1"]
    page = _list(db, limit=2)
    assert _names(page, ids) == ["r6", "r5"] and page.truncated
    assert not _list(db, limit=6).truncated
    assert _names(_list(db, job=DAILY), ids) == ["r5", "r4", "r2", "r1"]
    assert _names(_list(db, status="failed"), ids) == ["r3"]
    assert _names(_list(db, start=day("2026-11-02"), end=day("2026-11-02")), ids) == ["r3", "r2"]
    assert _names(_list(db, start=day("2026-11-03")), ids) == ["r5", "r4"]
    assert _names(_list(db, end=day("2026-11-01")), ids) == ["r6", "r1"]
    assert _names(_list(db, request_id=str(ids["backfill"])), ids) == ["r2", "r1"]
    # An organization sees its own runs and the every-organization ones, never another's.
    assert _names(_list(db, org_id=a), ids) == ["r6", "r4", "r3", "r2", "r1"]
    assert _names(_list(db, org_id=b, job=DAILY), ids) == ["r5", "r2", "r1"]


def test_a_run_row_as_listed(db: Engine, history_rows: dict[str, uuid.UUID]) -> None:
    runs = {r["run_id"]: r for r in _list(db).runs}
    failed = runs[history_rows["r3"]]
    assert failed["error"] == "Boom: first second line"  # one line
    assert failed["duration_s"] == 2.0 and failed["org_id"] is None
    assert failed["started_at"] == T0 + timedelta(minutes=2)
    running = runs[history_rows["r6"]]
    assert running["finished_at"] is None
    assert running["duration_s"] > 60  # so far: it started on 2026-11-23


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"job": "hourly-nonsense"}, "job: unknown job"),
        ({"status": "done"}, "status: unknown status"),
        ({"start": day("2026-11-10"), "end": day("2026-11-01")}, "runs backwards"),
        ({"org_id": "acme"}, "org must be a UUID"),
        ({"request_id": "12"}, "request must be a UUID"),
        ({"limit": 0}, "limit must be between"),
    ],
)
def test_bad_filters_are_bad_requests(given: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        history.run_filter(**given)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["runs", "--job", "hourly-nonsense"], "invalid choice"),
        (["runs", "--status", "done"], "invalid choice"),
        (["runs", "--from", "2026-11-10", "--to", "2026-11-01"], "runs backwards"),
        (["runs", "--org", "acme"], "org must be a UUID"),
        (["runs", "--org", "6c1c58a4-51ef-4b8e-9c55-0a4d5d1e6f70"], "unknown organization"),
        (["runs", "--limit", "0"], "at least 1"),
        (["status", "--format", "csv"], "invalid choice"),
    ],
)
def test_bad_cli_filters_are_one_line_and_exit_2(
    db_env: Engine, argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_runs_command_in_every_format(
    db_env: Engine, history_rows: dict[str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["runs", "--job", DAILY, "--limit", "3", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in body["runs"]] == [str(history_rows[n]) for n in ("r5", "r4", "r2")]
    assert body["truncated"] is True and body["filters"]["job"] == DAILY
    assert body["runs"][0]["stats"] == {"rows": 3}

    assert cli.main(["runs", "--status", "failed", "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["job"], row["status"], row["error"]) == (
        TRENDS,
        "failed",
        "Boom: first second line",
    )
    assert row["org_id"] == "" and row["duration_s"] == "2.00"

    assert cli.main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("job runs, newest first")
    newest = lines[3]  # title, header, rule, then the newest run
    assert newest.split()[:7] == [
        "2026-11-23",
        "03:05:00",
        WEEKLY,
        "2026-11-01",
        "running",
        "schedule",
        "schedule",
    ]
    r4 = next(line for line in lines if "manual" in line)
    assert "0.50s" in r4 and str(history_rows["r4"]) not in r4


def test_an_organization_sees_no_other_organization_in_stats(
    db: Engine, orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = orgs
    stats = {
        "organizations_processed": 2,
        "failed_organizations": [str(a), str(b)],
        "failure_errors": {str(a): "A broke", str(b): "B broke"},
        "per_org": {str(b): 1},
    }
    with db.begin() as conn:
        insert_rows(conn, "job_runs", [run_row(TRENDS, day("2026-11-22"), "partial", stats=stats)])
    [seen_by_a] = _list(db, org_id=a).runs
    assert seen_by_a["stats"] == {
        "organizations_processed": 2,
        "failed_organizations": [str(a)],
        "failure_errors": {str(a): "A broke"},
    }
    [operator] = _list(db).runs
    assert operator["stats"] == stats


def test_an_organization_reads_an_every_organization_error_without_aws_names(
    db: Engine, orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, _ = orgs
    error = (
        "after commit: SNS refused (AuthorizationError): User: arn:aws:sts::123456789012:"
        "assumed-role/opsmetrics-weekly/fn is not authorized to perform: SNS:Publish on"
        " resource: arn:aws:sns:eu-west-2:123456789012:alerts"
    )
    with db.begin() as conn:
        insert_rows(conn, "job_runs", [run_row(WEEKLY, day("2026-11-22"), "partial", error=error)])
    [seen_by_a] = _list(db, org_id=a).runs
    assert seen_by_a["error"] == (
        "after commit: SNS refused (AuthorizationError): User: [aws name] is not authorized to"
        " perform: SNS:Publish on resource: [aws name]"
    )
    [operator] = _list(db).runs
    assert operator["error"] == error


def test_durations_read_short() -> None:
    assert [took(s) for s in (0.42, 12.34, 184, 7500, None)] == [
        "0.42s",
        "12.3s",
        "3m04s",
        "2h05m",
        "-",
    ]


def test_render_runs_refuses_an_unknown_format(db: Engine) -> None:
    with pytest.raises(BadRequest, match="format"):
        render_runs(_list(db), "xml")


# --- at scale: a handful of statements, whatever the number of dates ------------------------------


@pytest.fixture
def big_ledger(db: Engine, orgs: tuple[uuid.UUID, uuid.UUID]) -> Engine:
    """100,000 runs: the three named jobs over 9,000 days from 2001-06-01, one in 7 failed, one
    in 11 limited to organization A; then a clean, succeeded target for each job of the model."""
    a, _ = orgs
    with db.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO job_runs (id, job, target_date, trigger, status, started_at,
                                      finished_at, stats, org_id, request_kind)
                SELECT gen_random_uuid(),
                       (CAST(:named AS text[]))[mod(g, 3) + 1],
                       DATE '2001-06-01' + mod(g / 3, 9000),
                       'schedule',
                       CASE WHEN mod(g, 7) = 0 THEN 'failed' ELSE 'succeeded' END,
                       TIMESTAMPTZ '2020-01-01 00:00Z' + g * INTERVAL '1 minute',
                       TIMESTAMPTZ '2020-01-01 00:00:02Z' + g * INTERVAL '1 minute',
                       '{"rows_written": 10}',
                       CASE WHEN mod(g, 11) = 0 THEN CAST(:a AS uuid) END,
                       'schedule'
                FROM generate_series(0, 99999) AS g
                """
            ),
            {"a": a, "named": list(NAMED)},
        )
        conn.execute(text("ANALYZE job_runs"))
    _all_fresh(db)
    return db


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_status_and_runs_stay_fast_on_100k_runs(
    big_ledger: Engine, statements: list[str], orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    started = time.perf_counter()
    found = _status(big_ledger)
    status_s = time.perf_counter() - started
    status_statements = len(statements)
    # 9,000 days per job, thousands of them gaps: still a few statements per job (25 for the
    # three jobs this was measured with).
    assert status_statements <= 4 + 7 * len(JOBS), status_statements
    # The 9,000 days end on 2026-01-20 (every one has a succeeded run for everyone); from then
    # to the horizon nothing ran.
    daily = _of(found, DAILY)
    last = day("2001-06-01") + timedelta(days=8999)
    assert last == day("2026-01-20")
    assert (daily.beyond.count, daily.beyond.oldest) == (291, day("2026-01-21"))
    assert len(daily.beyond.dates) == freshness.BEYOND_SHOWN
    assert daily.due == days_between("2026-11-08", "2026-11-21")
    assert status_s < 3.0, status_s

    statements.clear()
    started = time.perf_counter()
    page = _list(big_ledger, job=TRENDS, status="failed", org_id=orgs[0], limit=200)
    page2 = _list(big_ledger, start=day("2010-01-01"), end=day("2010-12-31"))
    runs_s = time.perf_counter() - started
    assert len(statements) == 2
    assert len(page.runs) == 200 and page.truncated
    assert all(r["org_id"] in (None, orgs[0]) and r["status"] == "failed" for r in page.runs)
    assert len(page2.runs) == 50 and page2.truncated
    assert runs_s < 1.0, runs_s
    print(f"status {status_s * 1000:.0f} ms, {status_statements} statements; runs {runs_s:.3f} s")


def test_short_stats_lead_with_rows_written_and_bad_rows() -> None:
    stats = {"errors": 0, "batches": 1, "bad_rows": 6, "duration_ms": 45, "rows_written": 4}
    assert short_stats(stats) == "rows_written 4, bad_rows 6, errors 0, batches 1"
    assert short_stats({"ok": True, "failed_organizations": [], "rows": 2}) == "rows 2"


@pytest.mark.parametrize("command", ["runs", "status"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: opsmetrics {command}" in capsys.readouterr().out
