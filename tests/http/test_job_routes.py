"""The job routes (spec §7) through both doors: GET /jobs/status, GET /jobs/runs and
POST /jobs/{job}/runs, their scopes, and who sees what: an organization's token sees its own
runs and the every-organization ones, never another organization's; an operator token (no org_id
claim) sees and runs everything.

The HTTP side takes today from the clock (the server door is another process), so the ledgers
of the status tests are laid out relative to the real UTC date.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine, text

from functions.reports.app import lambda_handler
from opsmetrics.ledger import LOCK_KEY_SQL
from opsmetrics.reports.auth import AuthConfig, identity_from_claims, mint_token
from opsmetrics.reports.params import match_path
from tests.factories import holding_run_lock, insert_rows, refusing_writes
from tests.factories import job_runs as ledger_rows
from tests.http import world as world_mod
from tests.http.doors import READ, Answer, Door, LambdaDoor, ServerDoor, invoke
from tests.http.events import http_event
from tests.http.world import NEXT_DAY, D, World

JOBS_READ = ("jobs:read",)
JOBS_BOTH = ("jobs:read", "jobs:run")
DAILY, WEEKLY, TRENDS = (
    "daily-territory-metrics",
    "weekly-hiring-triggers",
    "daily-trend-aggregation",
)


def as_operator(
    door: Door, method: str, path: str, query: str = "", scopes: Iterable[str] = JOBS_BOTH
) -> Answer:
    """A call with an operator token: verified claims with no org_id at all."""
    scopes = list(scopes)
    if isinstance(door, LambdaDoor):
        claims = {"sub": "operator-1", "scope": " ".join(scopes), "exp": "1795345200"}
        return invoke(lambda_handler, http_event(method, path, query, claims=claims, scopes=scopes))
    assert isinstance(door, ServerDoor)
    token = mint_token(org_id=None, scopes=scopes, ttl_s=300, config=door.config)
    target = path + (f"?{query}" if query else "")
    return door.raw(method, target, {"Authorization": f"Bearer {token}"})


@pytest.fixture
def world(db_env: Engine) -> World:
    """The HTTP tests' world without its job_runs rows: each test here lays out its own ledger."""
    with db_env.begin() as conn:
        loaded = world_mod.load(conn)
        conn.execute(text("DELETE FROM job_runs"))
    return loaded


def today() -> date:
    return datetime.now(UTC).date()


def run_row(
    job: str,
    target: date,
    status: str = "succeeded",
    *,
    org_id: uuid.UUID | None = None,
    minute: int = 0,
    error: str | None = None,
    stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    started = datetime(2026, 11, 23, 3, minute, tzinfo=UTC)
    return {
        "id": uuid.uuid4(),
        "job": job,
        "target_date": target,
        "trigger": "schedule",
        "status": status,
        "started_at": started,
        "finished_at": None if status == "running" else started + timedelta(seconds=3),
        "stats": stats or {},
        "error": error,
        "org_id": org_id,
        "request_kind": "schedule",
    }


@pytest.fixture
def three_runs(world: World, db_env: Engine) -> dict[str, uuid.UUID]:
    """One run for every organization, one limited to A (failed), one limited to B."""
    rows = {
        "all": run_row(
            DAILY,
            D,
            minute=0,
            stats={"failed_organizations": [str(world.org_b)], "rows_written": 6},
        ),
        "a": run_row(TRENDS, D, "failed", org_id=world.org_a, minute=1, error="Boom: A"),
        "b": run_row(DAILY, D - timedelta(days=1), org_id=world.org_b, minute=2),
    }
    with db_env.begin() as conn:
        insert_rows(conn, "job_runs", list(rows.values()))
    return {k: v["id"] for k, v in rows.items()}


def _ids(answer: Answer, names: dict[str, uuid.UUID]) -> list[str]:
    assert answer.status == 200, answer.body
    by_id = {str(v): k for k, v in names.items()}
    return [by_id.get(r["run_id"], r["run_id"]) for r in answer.json()["runs"]]


# --- GET /jobs/runs -------------------------------------------------------------------------------


def test_an_organization_sees_its_own_and_the_shared_runs_only(
    door: Door, world: World, three_runs: dict[str, uuid.UUID]
) -> None:
    answer = door.call("GET", "/jobs/runs", org=world.org_a, scopes=JOBS_READ)
    assert _ids(answer, three_runs) == ["a", "all"]  # newest first; never B's
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("application/json")
    shared = answer.json()["runs"][1]
    assert shared["org_id"] is None
    assert shared["stats"] == {"failed_organizations": [], "rows_written": 6}  # B's id hidden
    assert answer.json()["filters"]["org_id"] == str(world.org_a)
    b = door.call("GET", "/jobs/runs", org=world.org_b, scopes=JOBS_READ)
    assert _ids(b, three_runs) == ["b", "all"]
    assert b.json()["runs"][1]["stats"]["failed_organizations"] == [str(world.org_b)]


def test_an_operator_sees_every_run_and_filters(
    door: Door, world: World, three_runs: dict[str, uuid.UUID]
) -> None:
    assert _ids(as_operator(door, "GET", "/jobs/runs"), three_runs) == ["b", "a", "all"]
    by_org = as_operator(door, "GET", "/jobs/runs", f"org={world.org_b}")
    assert _ids(by_org, three_runs) == ["b", "all"]
    assert _ids(as_operator(door, "GET", "/jobs/runs", f"job={DAILY}"), three_runs) == ["b", "all"]
    assert _ids(as_operator(door, "GET", "/jobs/runs", "status=failed"), three_runs) == ["a"]
    ranged = as_operator(door, "GET", "/jobs/runs", f"from={D}&to={D}&limit=1")
    assert _ids(ranged, three_runs) == ["a"] and ranged.json()["truncated"] is True
    failed = as_operator(door, "GET", "/jobs/runs", "status=failed&format=csv")
    assert failed.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(failed.body)))
    assert (row["job"], row["org_id"], row["error"]) == (TRENDS, str(world.org_a), "Boom: A")


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ("job=hourly", 400, "job must be one of"),
        ("status=done", 400, "status must be one of"),
        (f"from={D}&to=2026-11-01", 400, "runs backwards"),
        ("org=acme", 400, "org must be a UUID"),
        ("org=6c1c58a4-51ef-4b8e-9c55-0a4d5d1e6f70", 400, "unknown organization"),
        ("request=12", 400, "request must be a UUID"),
        ("limit=0", 400, "limit must be at least 1"),
        ("org_id=x", 400, "not a parameter"),
    ],
)
def test_bad_filters_are_400(
    door: Door, world: World, query: str, status: int, fragment: str
) -> None:
    answer = as_operator(door, "GET", "/jobs/runs", query)
    assert answer.status == status and fragment in answer.error, answer.body


def test_scopes_and_tenancy_are_enforced(
    door: Door, world: World, three_runs: dict[str, uuid.UUID]
) -> None:
    assert door.call("GET", "/jobs/runs").status == 401
    no_scope = door.call("GET", "/jobs/runs", org=world.org_a, scopes=READ)
    assert no_scope.status == 403 and "jobs:read" in no_scope.error
    other_org = door.call(
        "GET", "/jobs/runs", f"org={world.org_b}", org=world.org_a, scopes=JOBS_READ
    )
    assert other_org.status == 403 and "only its own" in other_org.error
    own_org = door.call(
        "GET", "/jobs/runs", f"org={world.org_a}", org=world.org_a, scopes=JOBS_READ
    )
    assert _ids(own_org, three_runs) == ["a", "all"]
    read_only = door.call(
        "POST", f"/jobs/{DAILY}/runs", f"date={D}", org=world.org_a, scopes=JOBS_READ
    )
    assert read_only.status == 403 and "jobs:run" in read_only.error
    report = as_operator(door, "GET", "/reports/territories", scopes=("reports:read",))
    assert report.status == 403 and "org_id" in report.error
    assert as_operator(door, "GET", "/jobs/status", scopes=("jobs:run",)).status == 403
    # an organization the database does not know, from a valid token
    stranger = door.call("GET", "/jobs/runs", org=uuid.uuid4(), scopes=JOBS_READ)
    assert stranger.status == 403 and "not known" in stranger.error


# --- POST /jobs/{job}/runs ------------------------------------------------------------------------


def test_post_runs_the_callers_organization_then_get_shows_it(
    door: Door, world: World, db_env: Engine
) -> None:
    answer = door.call(
        "POST", f"/jobs/{DAILY}/runs", f"date={NEXT_DAY}", org=world.org_a, scopes=JOBS_BOTH
    )
    assert answer.status == 200, answer.body
    summary = answer.json()
    assert (summary["job"], summary["trigger"], summary["org_id"]) == (
        DAILY,
        "http",
        str(world.org_a),
    )
    assert (summary["status"], summary["request_kind"]) == ("succeeded", "single")
    assert [(r["target_date"], r["status"]) for r in summary["runs"]] == [
        (NEXT_DAY.isoformat(), "succeeded")
    ]
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-job-status"] == "succeeded"
    [row] = ledger_rows(db_env)
    assert (row["trigger"], row["org_id"], row["request_kind"]) == ("http", world.org_a, "single")
    assert str(row["request_id"]) == summary["request_id"]
    with db_env.connect() as conn:
        counts: dict[uuid.UUID, int] = dict(
            conn.execute(
                text(
                    "SELECT org_id, count(*) FROM territory_metrics WHERE metric_date = :d"
                    " GROUP BY org_id"
                ),
                {"d": NEXT_DAY},
            ).all()
        )
    assert counts == {world.org_a: 4}  # A's four territories; B untouched

    query = f"request={summary['request_id']}"
    seen = door.call("GET", "/jobs/runs", query, org=world.org_a, scopes=JOBS_READ).json()["runs"]
    assert [(r["run_id"], r["trigger"], r["org_id"]) for r in seen] == [
        (summary["runs"][0]["run_id"], "http", str(world.org_a))
    ]
    hidden = door.call("GET", "/jobs/runs", query, org=world.org_b, scopes=JOBS_READ)
    assert hidden.json()["runs"] == []


def test_an_operator_runs_every_organization(door: Door, world: World, db_env: Engine) -> None:
    answer = as_operator(door, "POST", f"/jobs/{TRENDS}/runs", f"date={D}")
    assert answer.status == 200, answer.body
    assert answer.json()["org_id"] is None
    [row] = ledger_rows(db_env)
    assert (row["org_id"], row["trigger"], row["status"]) == (None, "http", "succeeded")
    with db_env.connect() as conn:
        totals: dict[uuid.UUID, int] = dict(
            conn.execute(
                text(
                    "SELECT organization_id, total_classifications FROM communication_trends"
                    " WHERE trend_date = :d"
                ),
                {"d": D},
            ).all()
        )
    # Both organizations recomputed from their (empty) classifications: A had 10, B 7.
    assert totals == {world.org_a: 0, world.org_b: 0}
    limited = as_operator(door, "POST", f"/jobs/{TRENDS}/runs", f"date={D}&org={world.org_b}")
    assert limited.status == 200 and limited.json()["org_id"] == str(world.org_b)


def test_a_range_and_a_catch_up(door: Door, world: World, db_env: Engine) -> None:
    first = D - timedelta(days=2)
    answer = door.call(
        "POST", f"/jobs/{TRENDS}/runs", f"from={first}&to={D}", org=world.org_a, scopes=JOBS_BOTH
    )
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["request_kind"] == "backfill"
    assert [r["target_date"] for r in body["runs"]] == [
        (first + timedelta(days=i)).isoformat() for i in range(3)
    ]
    # Catch-up: A's earliest run is 3 days before today's target; the 2 days between are due
    # for A, and run before the target itself, oldest first.
    target = today() - timedelta(days=1)
    with db_env.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))
        insert_rows(
            conn, "job_runs", [run_row(TRENDS, target - timedelta(days=3), org_id=world.org_a)]
        )
    caught = door.call(
        "POST", f"/jobs/{TRENDS}/runs", "catch_up=true", org=world.org_a, scopes=JOBS_BOTH
    )
    assert caught.status == 200, caught.body
    assert caught.json()["request_kind"] == "catch-up"
    assert [r["target_date"] for r in caught.json()["runs"]] == [
        (target - timedelta(days=n)).isoformat() for n in (2, 1, 0)
    ]


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "fragment"),
    [
        ("POST", "/jobs/hourly-nonsense/runs", "", 404, "unknown job"),
        ("POST", f"/jobs/{DAILY}/runs", "date=1999-12-31", 400, "outside the valid dates"),
        ("POST", f"/jobs/{DAILY}/runs", f"from={D}&to=2026-11-01", 400, "runs backwards"),
        ("POST", f"/jobs/{DAILY}/runs", f"from=2026-01-01&to={D}", 400, "at most 92"),
        ("POST", f"/jobs/{DAILY}/runs", f"from={D}", 400, "needs both"),
        ("POST", f"/jobs/{DAILY}/runs", f"catch_up=true&date={D}", 400, "catch_up"),
        ("POST", f"/jobs/{WEEKLY}/runs", "date=2026-11-23", 400, "Sunday"),
        ("POST", f"/jobs/{DAILY}/runs", "org=acme", 400, "org must be a UUID"),
        ("GET", f"/jobs/{DAILY}/runs", "", 405, "POST"),
        ("DELETE", "/jobs/runs", "", 405, "GET"),
    ],
)
def test_bad_run_requests_write_nothing(
    door: Door,
    world: World,
    db_env: Engine,
    method: str,
    path: str,
    query: str,
    status: int,
    fragment: str,
) -> None:
    answer = as_operator(door, method, path, query)
    assert answer.status == status and fragment in answer.error, answer.body
    assert ledger_rows(db_env) == []


def test_a_failed_run_is_500_and_carries_its_summary(
    door: Door, world: World, db_env: Engine
) -> None:
    with refusing_writes(db_env, "territory_metrics", "org_id", None):
        answer = door.call(
            "POST", f"/jobs/{DAILY}/runs", f"date={NEXT_DAY}", org=world.org_a, scopes=JOBS_BOTH
        )
    assert answer.status == 500
    assert "ended failed" in answer.error and "previous figures stand" in answer.error
    assert answer.json()["summary"]["status"] == "failed"
    assert answer.headers["x-job-status"] == "failed"
    assert [r["status"] for r in ledger_rows(db_env)] == ["failed"]


def test_a_run_while_the_same_run_holds_the_lock_is_409(
    world: World, db_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSMETRICS_LOCK_WAIT_SECONDS", "1")
    with holding_run_lock(db_env, DAILY, D):
        answer = as_operator(LambdaDoor(), "POST", f"/jobs/{DAILY}/runs", f"date={D}")
    assert answer.status == 409
    assert "already running" in answer.error and "GET /jobs/runs?request=" in answer.error
    assert ledger_rows(db_env) == []


def test_dates_past_the_time_budget_are_skipped_and_stay_due(
    world: World, db_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsmetrics.reports import http_runs

    # No time left beyond what must be kept in hand: not even the first date starts.
    monkeypatch.setattr(http_runs, "RUN_BUDGET_S", http_runs.MIN_TIME_LEFT_S)
    answer = as_operator(LambdaDoor(), "POST", f"/jobs/{TRENDS}/runs", f"from={D}&to={NEXT_DAY}")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["status"] == "partial" and answer.headers["x-job-status"] == "partial"
    assert [(r["target_date"], r["status"]) for r in body["runs"]] == [
        (D.isoformat(), "skipped"),
        (NEXT_DAY.isoformat(), "skipped"),
    ]
    assert ledger_rows(db_env) == []


# --- GET /jobs/status -----------------------------------------------------------------------------


@pytest.fixture
def status_ledger(world: World, db_env: Engine) -> Iterator[date]:
    """daily-territory-metrics (target T = yesterday): succeeded for everyone on T-4 and T, for A
    alone on T-3. Weekly and trends: succeeded for everyone on their targets. Two runs in
    progress (locks held): trends on T for everyone, and daily on T-2 for B alone."""
    from opsmetrics.jobs import JOBS

    t = today() - timedelta(days=1)
    weekly_target = JOBS[WEEKLY].target_for(today())
    rows = [
        run_row(DAILY, t - timedelta(days=4)),
        run_row(DAILY, t),
        run_row(DAILY, t - timedelta(days=3), org_id=world.org_a),
        run_row(WEEKLY, weekly_target),
        run_row(TRENDS, t),
        run_row(TRENDS, t, "running"),
        run_row(DAILY, t - timedelta(days=2), "running", org_id=world.org_b),
    ]
    with db_env.begin() as conn:
        insert_rows(conn, "job_runs", rows)
    with db_env.connect() as holder:
        holder.begin()
        for job, day in ((TRENDS, t), (DAILY, t - timedelta(days=2))):
            holder.execute(
                text(
                    f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL.format(job=':job', day=':day')})"
                ),
                {"job": job, "day": day},
            )
        yield t
        holder.rollback()


def _status(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return {job["job"]: job for job in body["jobs"]} | {"": body}


def test_status_per_scope(door: Door, world: World, status_ledger: date) -> None:
    t = status_ledger

    def days(*back: int) -> list[str]:
        return [(t - timedelta(days=n)).isoformat() for n in back]

    operator = _status(as_operator(door, "GET", "/jobs/status"))
    a = _status(door.call("GET", "/jobs/status", org=world.org_a, scopes=JOBS_READ))
    b = _status(door.call("GET", "/jobs/status", org=world.org_b, scopes=JOBS_READ))
    assert operator[DAILY]["due"] == days(3, 2, 1)
    assert a[DAILY]["due"] == days(2, 1)  # T-3 ran for A
    assert b[DAILY]["due"] == days(3, 2, 1)
    assert operator[DAILY]["latest_succeeded"] == t.isoformat()
    assert [r["target_date"] for r in operator[DAILY]["running"]] == days(2)
    assert a[DAILY]["running"] == []  # B's run in progress is B's business
    assert [r["org_id"] for r in b[DAILY]["running"]] == [str(world.org_b)]
    for view in (operator, a, b):
        assert [r["target_date"] for r in view[TRENDS]["running"]] == days(0)
        assert view[TRENDS]["healthy"] and view[WEEKLY]["healthy"]
        assert not view[DAILY]["healthy"] and view[""]["healthy"] is False
    assert a[""]["org_id"] == str(world.org_a) and operator[""]["org_id"] is None


def test_status_when_all_is_well(door: Door, world: World, db_env: Engine) -> None:
    from opsmetrics.jobs import JOBS

    with db_env.begin() as conn:
        insert_rows(
            conn,
            "job_runs",
            [run_row(name, spec.target_for(today())) for name, spec in JOBS.items()],
        )
    body = _status(as_operator(door, "GET", "/jobs/status"))[""]
    assert body["healthy"] is True and body["abandoned_closed"] == 0
    assert {j["job"]: j["stale"] for j in body["jobs"]} == {name: False for name in JOBS}


# --- units: tokens and paths ----------------------------------------------------------------------


def test_operator_tokens_have_no_org_claim() -> None:
    secret = "unit-test-secret-that-is-long-enough-32"
    token = mint_token(org_id=None, scopes=JOBS_BOTH, ttl_s=60, config=AuthConfig(secret=secret))
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert "org_id" not in claims and claims["sub"] == "local:operator"
    identity = identity_from_claims(claims)
    assert identity.org_id is None and identity.scopes == frozenset(JOBS_BOTH)


def test_path_templates_match_one_segment_per_parameter() -> None:
    assert match_path("/jobs/{job}/runs", f"/jobs/{DAILY}/runs") == {"job": DAILY}
    assert match_path("/jobs/{job}/runs", "/jobs//runs") is None
    assert match_path("/jobs/{job}/runs", "/jobs/a/b/runs") is None
    assert match_path("/jobs/{job}/runs", "/jobs/a/run") is None


def test_token_command_mints_operator_tokens_and_repeated_scopes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_env: Engine
) -> None:
    from opsmetrics.cli import main
    from tests.http.doors import TEST_SECRET

    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", TEST_SECRET)

    def claims(*argv: str) -> dict[str, Any]:
        assert main(["token", *argv]) == 0
        decoded: dict[str, Any] = jwt.decode(
            capsys.readouterr().out.strip(), TEST_SECRET, algorithms=["HS256"]
        )
        return decoded

    operator = claims()
    assert "org_id" not in operator and operator["scope"] == "jobs:read jobs:run"
    org = str(uuid.uuid4())
    with db_env.begin() as conn:  # `token --org` refuses an organization the database lacks
        insert_rows(conn, "organizations", [{"id": org, "name": "Token Medics"}])
    assert claims("--org", org)["scope"] == "reports:read reports:refresh"
    many = claims("--org", org, "--scope", "jobs:read", "--scope", "reports:read reports:refresh")
    assert (many["org_id"], many["scope"]) == (org, "jobs:read reports:read reports:refresh")
    assert claims("--scope", "jobs:read")["scope"] == "jobs:read"
