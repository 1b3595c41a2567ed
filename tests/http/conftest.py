"""Fixtures for the HTTP tests: both front doors, a real server, the hand-made world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.http import world as world_mod
from tests.http.doors import (
    TEST_SECRET,
    Door,
    LambdaDoor,
    RunningServer,
    ServerDoor,
    free_port,
    serve_command,
    start_server,
)


def server_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "OPSMETRICS_JWT_SECRET": TEST_SECRET,
        "OPSMETRICS_LOCK_WAIT_SECONDS": "5",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "THREADS": "4",
    }


@pytest.fixture(scope="session")
def http_server(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """`opsmetrics serve` on a free loopback port against the test database (schema from the
    `engine` fixture); stopped at the end of the session."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("http-server")) / "serve.log"
    server = start_server(serve_command(port), server_env(database_url), port, log)
    yield server
    server.stop()


@pytest.fixture(params=["lambda", "server"])
def door(request: pytest.FixtureRequest, db_env: Engine) -> Door:
    """Each test runs through both doors, on emptied tables."""
    if request.param == "lambda":
        return LambdaDoor()
    server: RunningServer = request.getfixturevalue("http_server")
    return ServerDoor(server.base_url)


@pytest.fixture
def world(db_env: Engine) -> world_mod.World:
    with db_env.begin() as conn:
        return world_mod.load(conn)
