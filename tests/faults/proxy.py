"""A TCP proxy in the test process between the code under test and PostgreSQL, that can cut its
connections (a reset, as when a NAT or load balancer drops them) or blackhole them (a half-open
connection: the sockets stay open and nothing arrives, as when a peer vanishes without a word).

The upstream may be a TCP address or a Unix socket (the embedded server listens on one), so the
same faults are tried against both servers the suite runs on.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class _Pair:
    client: socket.socket
    server: socket.socket
    silent: threading.Event = field(default_factory=threading.Event)

    def close(self, reset: bool) -> None:
        for sock in (self.client, self.server):
            try:
                if reset:  # linger 0: close sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Wakes the pipe thread blocked in recv, which would otherwise keep the socket
                # open (and silent) past close().
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            sock.close()


class Proxy:
    """Listens on 127.0.0.1 (`port`); each accepted connection is piped to `upstream`."""

    def __init__(self, upstream: tuple[str, int] | str) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._closed = False
        self._refuse_until = 0.0
        self._refuse_count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def cut(self) -> None:
        """Reset every open connection (new ones are still accepted)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close(reset=True)

    def blackhole(self) -> None:
        """Every open connection goes silent both ways; new ones are piped as usual."""
        with self._lock:
            for pair in self._pairs:
                pair.silent.set()

    def refuse_next(self, count: int) -> None:
        """The next `count` new connections are reset at once (a server restarting)."""
        self._refuse_count = count

    def refuse_for(self, seconds: float) -> None:
        """New connections are reset at once for this long (a server restarting)."""
        self._refuse_until = time.monotonic() + seconds

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refuse_count > 0 or time.monotonic() < self._refuse_until:
                self._refuse_count = max(self._refuse_count - 1, 0)
                _Pair(client, client).close(reset=True)
                continue
            try:
                server = self._connect_upstream()
            except OSError:
                client.close()
                continue
            pair = _Pair(client, server)
            with self._lock:
                self._pairs.append(pair)
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(pair, src, dst), daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.upstream)
            return sock
        return socket.create_connection(self.upstream)

    def _pipe(self, pair: _Pair, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if pair.silent.is_set():
                    continue  # swallowed: the other side hears nothing, and no FIN either
                dst.sendall(data)
        except OSError:
            pass
        if not pair.silent.is_set():
            pair.close(reset=False)
