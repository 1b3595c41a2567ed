"""What only one door does: the Lambda door reads API Gateway's authorizer claims; the server door
checks bearer tokens itself and runs under the real functions-framework; `opsmetrics token`."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Engine

from functions.reports.app import lambda_handler
from opsmetrics import db as dbmod
from opsmetrics.cli import main
from opsmetrics.reports.auth import LOCAL_DEV_SECRET, AuthConfig, mint_token
from tests.factories import insert_rows
from tests.http.conftest import server_env
from tests.http.doors import (
    READ,
    TEST_SECRET,
    RunningServer,
    ServerDoor,
    free_port,
    functions_framework_command,
    invoke,
    start_server,
)
from tests.http.events import http_event
from tests.http.world import D, World

# --- Lambda: identity from the authorizer context ------------------------------------------------


def test_lambda_without_authorizer_claims_is_401(world: World) -> None:
    answer = invoke(lambda_handler, http_event("GET", "/reports/territories"))
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="opsmetrics"'


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "user-1", "scope": "reports:read", "org_id": "acme"},  # not a UUID
        {"sub": "user-1", "scope": "reports:read", "org_id": ""},
    ],
)
def test_lambda_claims_without_a_usable_org_are_401(world: World, claims: dict[str, str]) -> None:
    event = http_event("GET", "/reports/territories", claims=claims)
    answer = invoke(lambda_handler, event)
    assert answer.status == 401
    assert "org_id" in answer.error


def test_lambda_operator_claims_read_no_report(world: World) -> None:
    """No org_id claim at all is an operator token: the job routes' caller, never a report's."""
    claims = {"sub": "user-1", "scope": "reports:read"}
    answer = invoke(lambda_handler, http_event("GET", "/reports/territories", claims=claims))
    assert answer.status == 403
    assert "org_id" in answer.error and "/jobs" in answer.error


def test_lambda_takes_scopes_from_the_authorizer_list_too(world: World) -> None:
    claims = {"sub": "user-1", "org_id": str(world.org_a)}  # no scope claim
    event = http_event("GET", "/reports/territories", claims=claims, scopes=["reports:read"])
    assert invoke(lambda_handler, event).status == 200


def test_lambda_on_a_named_stage(world: World) -> None:
    event = http_event(
        "GET", "/reports/territories", "limit=1", org_id=world.org_a, scopes=READ, stage="prod"
    )
    answer = invoke(lambda_handler, event)
    assert answer.status == 200
    assert len(answer.json()["rows"]) == 1


def test_lambda_database_down_is_503_with_retry_after_and_no_detail(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    dbmod.dispose_engines()
    try:
        health = invoke(lambda_handler, http_event("GET", "/health"))
        assert health.status == 503
        assert health.json() == {"status": "unavailable", "database": "unreachable"}
        report = invoke(
            lambda_handler,
            http_event("GET", "/reports/territories", org_id=world.org_a, scopes=READ),
        )
        # Not the caller's fault nor a bug: come back shortly (the cause goes to the log only).
        assert (report.status, report.headers["retry-after"]) == (503, "5")
        assert report.json() == {
            "error": {
                "status": 503,
                "message": "the database is unavailable or busy; try again shortly",
            }
        }
    finally:
        dbmod.dispose_engines()


# --- server: bearer tokens checked by the app ----------------------------------------------------


@pytest.fixture
def server(db_env: Engine, http_server: RunningServer) -> ServerDoor:
    return ServerDoor(http_server.base_url)


def _get(server: ServerDoor, token: str) -> int:
    return server.raw("GET", "/reports/territories", {"Authorization": f"Bearer {token}"}).status


def test_server_refuses_bad_tokens(server: ServerDoor, world: World) -> None:
    now = int(time.time())
    good = {"org_id": str(world.org_a), "scope": "reports:read", "exp": now + 60}
    assert _get(server, jwt.encode(good, TEST_SECRET, algorithm="HS256")) == 200
    assert _get(server, "garbage") == 401
    assert _get(server, jwt.encode(good, "x" * 40, algorithm="HS256")) == 401  # other key
    assert _get(server, jwt.encode({**good, "exp": now - 120}, TEST_SECRET)) == 401  # expired
    no_org = {k: v for k, v in good.items() if k != "org_id"}
    assert _get(server, jwt.encode(no_org, TEST_SECRET)) == 403  # an operator token: no reports
    assert _get(server, jwt.encode({**good, "org_id": ""}, TEST_SECRET)) == 401
    assert _get(server, jwt.encode({**good, "org_id": None}, TEST_SECRET)) == 401
    assert _get(server, jwt.encode(good, "", algorithm="none")) == 401
    basic = server.raw("GET", "/reports/territories", {"Authorization": "Basic dTpw"})
    assert basic.status == 401
    assert "invalid_token" in basic.headers["www-authenticate"]


def test_server_ignores_a_bad_token_on_public_routes(server: ServerDoor) -> None:
    answer = server.raw("GET", "/health", {"Authorization": "Bearer garbage"})
    assert answer.status == 200


def test_bare_functions_framework_target(world: World, database_url: str, tmp_path: Path) -> None:
    """The deployable form: `functions-framework --target reports --source .../main.py`."""
    port = free_port()
    running = start_server(
        functions_framework_command(port), server_env(database_url), port, tmp_path / "ff.log"
    )
    try:
        door = ServerDoor(running.base_url)
        answer = door.call("GET", "/reports/hiring-triggers", f"date={D}", org=world.org_b)
        assert answer.status == 200
        assert answer.json()["summary"]["total"] == 3  # B's SW1A 1: see test_reports
        assert door.call("GET", "/reports/hiring-triggers").status == 401
        assert door.call("GET", "/nope").status == 404
    finally:
        running.stop()


# --- opsmetrics token ----------------------------------------------------------------------------


def _known_org(engine: Engine) -> uuid.UUID:
    """An organization the database has: `token --org` refuses others."""
    org = uuid.uuid4()
    with engine.begin() as conn:
        insert_rows(conn, "organizations", [{"id": org, "name": "Token Medics"}])
    return org


def test_token_command_mints_a_verifiable_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_env: Engine
) -> None:
    org = _known_org(db_env)
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", TEST_SECRET)
    assert main(["token", "--org", str(org), "--scope", "reports:read", "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert (claims["org_id"], claims["scope"], claims["exp"] - claims["iat"]) == (
        str(org),
        "reports:read",
        120,
    )


def test_token_command_without_a_secret_warns_and_uses_the_local_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_env: Engine
) -> None:
    for name in ("OPSMETRICS_JWT_SECRET", "OPSMETRICS_JWKS_FILE", "OPSMETRICS_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    org = _known_org(db_env)
    assert main(["token", "--org", str(org)]) == 0
    out = capsys.readouterr()
    assert "warning" in out.err and "local development key" in out.err
    claims = jwt.decode(out.out.strip(), LOCAL_DEV_SECRET, algorithms=["HS256"])
    assert claims["scope"] == "reports:read reports:refresh"


def test_token_command_refuses_a_bad_org(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", TEST_SECRET)
    assert main(["token", "--org", "acme"]) == 2
    assert "UUID" in capsys.readouterr().err


def test_serve_refuses_to_use_the_local_key_off_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPSMETRICS_JWT_SECRET", "OPSMETRICS_JWKS_FILE", "OPSMETRICS_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 1
    assert "OPSMETRICS_JWT_SECRET" in capsys.readouterr().err


def test_minted_tokens_work_against_the_server(server: ServerDoor, world: World) -> None:
    token = mint_token(
        org_id=world.org_a, scopes=["reports:read"], ttl_s=60, config=AuthConfig(TEST_SECRET)
    )
    assert _get(server, token) == 200


def test_lambda_refuses_to_send_more_than_lambda_can(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsmetrics.reports import lambda_app

    monkeypatch.setattr(lambda_app, "MAX_LAMBDA_BODY", 100)
    answer = invoke(lambda_handler, http_event("GET", "/openapi.json"))
    assert answer.status == 500
    assert "too large" in answer.error


@pytest.mark.parametrize(
    "event",
    [
        {"scheduled_time": "2026-11-30T03:00:00Z"},  # a schedule's tick sent to the wrong function
        {"version": "2.0", "requestContext": {}},
        {},
    ],
)
def test_lambda_refuses_an_event_that_is_not_an_http_request(event: dict[str, object]) -> None:
    from opsmetrics.errors import BadRequest
    from tests.http.events import FakeContext

    with pytest.raises(BadRequest, match="answers API Gateway HTTP API events"):
        lambda_handler(event, FakeContext())
