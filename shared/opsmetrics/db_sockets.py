"""What each database connection's socket does: bounded reads, TCP keepalive, and the FATAL
message a server sends before it ends a session, kept as the cause (docs/reliability.md).
db.py applies these to every new connection; the run loop reads them back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection

# TCP keepalive on every database socket: a dead peer (a crashed server, a dropped NAT entry) is
# noticed after about KEEPALIVE_IDLE_S + KEEPALIVE_COUNT * KEEPALIVE_INTERVAL_S = 60 s.
KEEPALIVE_IDLE_S = 30
KEEPALIVE_INTERVAL_S = 10
KEEPALIVE_COUNT = 3


def bound_socket(dbapi_conn: Any, read_timeout_s: float) -> None:
    """Bound every later read of a new connection's socket, and turn on TCP keepalive probes.

    pg8000 keeps its connect `timeout` on the socket for every later read, which would cut off
    any statement slower than DB_CONNECT_TIMEOUT; the read timeout is instead the longest
    legitimate wait (statement timeout or lock wait) plus a margin, so a silent connection fails
    within it. Keepalive probes notice a dead peer on an idle connection.
    """
    sock = getattr(dbapi_conn, "_usock", None)
    if sock is None:
        return
    sock.settimeout(read_timeout_s)
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket: no TCP options
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
    ):
        option = getattr(socket, name, None)  # Linux names; macOS lacks some
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


_FATAL = "opsmetrics_fatal"


def remember_fatal(dbapi_conn: Any) -> None:
    """Keep the last FATAL error the server sent on this connection. A server that ends a session
    (pg_terminate_backend, idle_in_transaction_session_timeout, a shutdown) says why just before
    closing it, but pg8000 then reports only the closed socket ("network error"): the reason
    would be lost without this."""
    types = getattr(dbapi_conn, "message_types", None)
    if not isinstance(types, dict):
        return
    code = next((c for c, h in types.items() if getattr(h, "__name__", "") == _ERROR_HANDLER), None)
    if code is None:
        return
    handle = types[code]

    def remember(data: bytes, context: Any) -> None:
        handle(data, context)
        fields = getattr(getattr(context, "error", None), "args", None)
        # V: the severity never translated (S follows lc_messages).
        if (
            fields
            and isinstance(fields[0], dict)
            and fields[0].get("V", fields[0].get("S")) == "FATAL"
        ):
            setattr(dbapi_conn, _FATAL, context.error)

    types[code] = remember


_ERROR_HANDLER = "handle_ERROR_RESPONSE"


@contextmanager
def read_timeout(conn: Connection, seconds: float) -> Iterator[None]:
    """This connection's socket reads bounded by `seconds` (a run's own limits, shorter over
    HTTP than the engine's), restored when the block ends."""
    sock = getattr(driver_connection(conn), "_usock", None)
    if sock is None:
        yield
        return
    previous = sock.gettimeout()
    sock.settimeout(seconds)
    try:
        yield
    finally:
        with suppress(OSError):
            sock.settimeout(previous)


def driver_connection(conn: Connection) -> Any:
    """The driver's connection under `conn`: take it while `conn` is valid (see fatal_error)."""
    return conn.connection.dbapi_connection


def fatal_error(dbapi_conn: Any) -> BaseException | None:
    """The FATAL error the server sent before it closed this driver connection, if it did."""
    found = getattr(dbapi_conn, _FATAL, None)
    return found if isinstance(found, BaseException) else None
