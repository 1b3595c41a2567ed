"""The limits every database connection and job session gets (spec §8: a silent connection
fails within the statement timeout plus 60 s), read from the settings in one place."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from opsmetrics import db as dbmod
from opsmetrics import db_sockets
from opsmetrics.config import READ_TIMEOUT_MARGIN_S, Settings


def test_the_read_timeout_follows_the_longest_legitimate_wait() -> None:
    assert READ_TIMEOUT_MARGIN_S == 60  # the contract's margin
    default = Settings()
    assert default.read_timeout_s == default.statement_timeout_ms / 1000 + 60
    waits_longer = Settings(statement_timeout_ms=10_000, lock_wait_s=300)
    assert waits_longer.read_timeout_s == 360
    assert Settings(db_read_timeout_s=7).read_timeout_s == 7


def test_the_limits_are_read_from_the_environment() -> None:
    read = Settings.from_env(
        {
            "DB_READ_TIMEOUT_S": "42",
            "DB_IDLE_IN_TRANSACTION_TIMEOUT_S": "9",
            "OPSMETRICS_HTTP_RUNS_PER_MINUTE": "0",
        }
    )
    assert (read.read_timeout_s, read.idle_in_transaction_timeout_s) == (42, 9)
    assert read.http_runs_per_minute == 0
    defaults = Settings.from_env({})
    assert defaults.db_read_timeout_s is None
    assert (defaults.idle_in_transaction_timeout_s, defaults.http_runs_per_minute) == (60, 6)


@pytest.fixture
def tcp_engine(fault_settings: Settings) -> Iterator[Engine]:
    engine = dbmod.build_engine(fault_settings.database_url or "", fault_settings)
    yield engine
    engine.dispose()


def test_every_database_socket_has_a_read_timeout_and_keepalive(
    tcp_engine: Engine, fault_settings: Settings
) -> None:
    with tcp_engine.connect() as conn:
        sock = db_sockets.driver_connection(conn)._usock
        assert sock.gettimeout() == fault_settings.read_timeout_s
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if hasattr(socket, "TCP_KEEPIDLE"):
            idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            assert idle == db_sockets.KEEPALIVE_IDLE_S


def test_the_ledger_writes_through_a_pool_of_its_own(tcp_engine: Engine) -> None:
    ledger = dbmod.ledger_engine(tcp_engine)
    assert ledger is not tcp_engine and ledger.pool is not tcp_engine.pool
    # Every connection of the job pool taken: the ledger still gets one at once.
    held = [tcp_engine.connect() for _ in range(dbmod.POOL_SIZE + dbmod.POOL_OVERFLOW)]
    try:
        with ledger.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        for conn in held:
            conn.close()
