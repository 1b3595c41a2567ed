"""The HTTP server under load and abuse (spec §8), through a real `opsmetrics serve`:
concurrent refreshes of one job and date never stall other requests, an over-long request line
is refused at once, refresh is rate-limited per organization, and one organization's refresh
leaves another's cached answers alone."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from opsmetrics.reports.auth import mint_token
from opsmetrics.reports.http_runs import RETRY_AFTER_S, RUNS_AT_ONCE
from opsmetrics.reports.routes import MAX_TARGET_BYTES
from tests.faults.conftest import PATIENCE_S, gate
from tests.http import world as world_mod
from tests.http.doors import (
    BOTH,
    TEST_SECRET,
    LambdaDoor,
    RunningServer,
    ServerDoor,
    free_port,
    serve_command,
    start_server,
)
from tests.http.world import NEXT_DAY

RUNS_PER_MINUTE = 3
REFRESH = "/reports/territories/refresh"


@pytest.fixture(scope="module")
def server(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """`opsmetrics serve` with its production threads and a low per-organization run limit."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("faults-server")) / "serve.log"
    env = {
        "DATABASE_URL": database_url,
        "OPSMETRICS_JWT_SECRET": TEST_SECRET,
        "OPSMETRICS_HTTP_RUNS_PER_MINUTE": str(RUNS_PER_MINUTE),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    running = start_server(serve_command(port), env, port, log)
    yield running
    running.stop()


@pytest.fixture
def world(db: Engine) -> world_mod.World:
    with db.begin() as conn:
        return world_mod.load(conn)


def _http_runs(db: Engine) -> list[dict[str, object]]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status, org_id FROM job_runs WHERE trigger = 'http'")
        ).mappings()
        return [dict(r) for r in rows]


def test_concurrent_refreshes_of_one_date_never_stall_other_requests(
    db: Engine, world: world_mod.World, server: RunningServer
) -> None:
    """While one refresh holds the date's lock (held at the gate, inside its transaction):
    11 more refreshes of it, another organization's refresh of the same date, and operator runs
    of ranges starting there are all answered at once (409, or 503 beyond RUNS_AT_ONCE), and
    reads answer as usual."""
    door = ServerDoor(server.base_url)
    operator = {
        "Authorization": "Bearer "
        + mint_token(org_id=None, scopes=["jobs:run"], ttl_s=300, config=door.config)
    }
    pool = ThreadPoolExecutor(max_workers=32)
    with gate(db) as g:
        same = [
            pool.submit(
                door.call, "POST", REFRESH, f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH
            )
            for _ in range(12)
        ]
        g.wait_for_run()  # one refresh holds the lock, inside its transaction, at the gate
        started = time.monotonic()
        others = [
            pool.submit(
                door.call, "POST", REFRESH, f"date={NEXT_DAY}", org=world.org_b, scopes=BOTH
            ),
            *(
                pool.submit(
                    door.raw,
                    "POST",
                    f"/jobs/daily-territory-metrics/runs?from={NEXT_DAY}&to={last}",
                    operator,
                )
                for last in (NEXT_DAY, NEXT_DAY + timedelta(days=1), NEXT_DAY + timedelta(days=2))
            ),
        ]
        reads = [
            pool.submit(door.call, "GET", "/reports/territories", org=who)
            for who in [world.org_a, world.org_b] * 10
        ]
        health = pool.submit(door.call, "GET", "/health")
        answers = [f.result(timeout=PATIENCE_S) for f in [*reads, health]]
        refused = [f.result(timeout=PATIENCE_S) for f in others]
        took = time.monotonic() - started
        assert [a.status for a in answers] == [200] * 21
        # 409: the date's lock is held; 503: more than RUNS_AT_ONCE runs on this server at once.
        statuses = [a.status for a in refused]
        assert set(statuses) <= {409, 503} and statuses.count(409) >= RUNS_AT_ONCE - 1
        # Before, each of these waited 10 s on the lock, holding a thread: the reads stalled.
        assert took < PATIENCE_S / 3
        waiting = [f for f in same if not f.done()]
        deadline = time.monotonic() + PATIENCE_S
        while len(waiting) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            waiting = [f for f in same if not f.done()]
        # Every other refresh of the same runs was answered at once, without a thread or a
        # connection spent waiting on the held lock: only the run at the gate is still going.
        assert len(waiting) == 1
        turned_away = [f.result() for f in same if f.done()]
    held = waiting[0].result(timeout=PATIENCE_S)
    pool.shutdown()
    assert held.status == 200 and held.headers["x-job-status"] == "succeeded"
    assert [a.status for a in turned_away] == [409] * 11
    assert {a.headers["retry-after"] for a in [*turned_away, *refused]} == {str(RETRY_AFTER_S)}
    assert all("already in progress" in a.error for a in turned_away)
    assert all("already running elsewhere" in a.error for a in refused if a.status == 409)
    [only] = _http_runs(db)
    assert (only["status"], only["id"]) == ("succeeded", _uuid(held.headers["x-job-run-id"]))


def test_concurrent_refreshes_of_one_organization_keep_to_its_limit(
    db: Engine, world: world_mod.World, server: RunningServer
) -> None:
    """Eight refreshes of eight dates at once by one organization: exactly its limit run."""
    door = ServerDoor(server.base_url)
    dates = [NEXT_DAY - timedelta(days=n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda d: door.call("POST", REFRESH, f"date={d}", org=world.org_a, scopes=BOTH),
                dates,
            )
        )
    statuses = sorted(a.status for a in answers)
    # 200: ran; 429: over the limit; 503: more than RUNS_AT_ONCE at once on this server.
    assert statuses.count(200) <= RUNS_PER_MINUTE
    assert set(statuses) <= {200, 429, 503}
    assert len(_http_runs(db)) == statuses.count(200)
    with db.connect() as conn:
        reserved = conn.execute(text("SELECT count(*) FROM http_run_reservations")).scalar_one()
    assert reserved <= RUNS_PER_MINUTE


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def test_refresh_is_limited_per_organization_with_retry_after(
    db: Engine, world: world_mod.World, server: RunningServer
) -> None:
    door = ServerDoor(server.base_url)
    for _ in range(RUNS_PER_MINUTE):
        ok = door.call("POST", REFRESH, f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH)
        assert ok.status == 200
    refused = door.call("POST", REFRESH, f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH)
    assert refused.status == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert f"{RUNS_PER_MINUTE} runs in the last minute" in refused.error
    # Another organization has its own allowance; nothing ran for the refused request.
    other = door.call("POST", REFRESH, f"date={NEXT_DAY}", org=world.org_b, scopes=BOTH)
    assert other.status == 200
    assert len(_http_runs(db)) == RUNS_PER_MINUTE + 1


def _raw(base_url: str, target: bytes) -> tuple[int, float]:
    """Send a GET with this target over a plain socket; the status and the seconds it took."""
    host, port = base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # Refused before we finished sending (a reset): the answer is already there.
        with contextlib.suppress(OSError):
            sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head = sock.recv(64)
    return int(head.split()[1]), time.monotonic() - started


def test_a_request_line_over_8_kb_is_refused_at_once(server: RunningServer) -> None:
    huge = b"/reports/territories?region=" + b"x" * (20 * 1024 * 1024)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _raw(server.base_url, huge), range(4)))
    assert [status for status, _ in results] == [414] * 4
    assert max(took for _, took in results) < 5  # was 147 s for four of these
    just_over = b"/health?" + b"x" * (MAX_TARGET_BYTES + 1)
    assert _raw(server.base_url, just_over)[0] == 414
    assert _raw(server.base_url, b"/health")[0] == 200


def test_the_lambda_door_refuses_a_long_target_too(db: Engine) -> None:
    answer = LambdaDoor().call("GET", "/health", "x=" + "y" * MAX_TARGET_BYTES)
    assert answer.status == 414
    assert f"exceed {MAX_TARGET_BYTES} bytes" in answer.error


def test_one_organizations_refresh_keeps_anothers_cached_answers(
    db_env: Engine, world: world_mod.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsmetrics.reports import handlers, registry

    handlers.answers.cache_clear()
    built: list[object] = []
    real_build = registry.build

    def counting_build(conn: object, name: str, params: object) -> object:
        built.append(getattr(params, "org_id", None))
        return real_build(conn, name, params)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "build", counting_build)
    door = LambdaDoor()
    first_b = door.call("GET", "/reports/territories", org=world.org_b)
    first_a = door.call("GET", "/reports/territories", org=world.org_a)
    assert (first_a.status, first_b.status, len(built)) == (200, 200, 2)
    refreshed = door.call("POST", REFRESH, f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH)
    assert refreshed.status == 200
    before = len(built)
    again_b = door.call("GET", "/reports/territories", org=world.org_b)
    assert again_b.body == first_b.body and len(built) == before  # B's answer was kept
    door.call("GET", "/reports/territories", org=world.org_a)
    assert len(built) == before + 1  # A's was rebuilt: its runs changed
