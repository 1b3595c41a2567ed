"""`opsmetrics serve`'s checks before it announces anything: a port number that exists, and an
address and port it can bind (not in use, not privileged), so a mistake is one line instead of
"serving on ..." followed by a server's traceback."""

from __future__ import annotations

import argparse
import errno
import socket

from opsmetrics.errors import BadRequest

MAX_PORT = 65535


def port_number(value: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {value!r}") from None
    if not 1 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 1-{MAX_PORT}, got {port}")
    return port


def check_bindable(host: str, port: int) -> None:
    """Bind (and release) host:port as the server will; BadRequest names the fix if it cannot."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise BadRequest(
            f"cannot listen on {host!r}: {exc.strerror}; try --host 127.0.0.1"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # As the server does: a port left in TIME_WAIT by a previous run is reusable.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BadRequest(
                    f"port {port} on {host} is already in use (another opsmetrics serve?):"
                    " stop it or choose another with --port"
                ) from None
            if exc.errno == errno.EACCES:
                raise BadRequest(
                    f"port {port} needs administrator rights: choose one above 1023 with --port"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise BadRequest(
                    f"{host} is not an address of this machine: try --host 127.0.0.1"
                ) from None
            raise BadRequest(f"cannot listen on {host}:{port}: {exc.strerror}") from None
