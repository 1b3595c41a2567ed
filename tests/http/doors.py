"""The two front doors as one test client: API Gateway events into lambda_handler, and real HTTP
requests to a functions-framework server on loopback.

`call(..., org=X, scopes=...)` speaks for organization X: the Lambda door puts the claims where
API Gateway's JWT authorizer puts them; the server door sends a signed bearer token.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from opsmetrics.reports.auth import AuthConfig, mint_token
from tests.http.events import FakeContext, http_event

READ = ("reports:read",)
REFRESH = ("reports:refresh",)
BOTH = ("reports:read", "reports:refresh")
TEST_SECRET = "tests-only-hs256-secret-of-32-bytes-or-more"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        message: str = self.json()["error"]["message"]
        return message


class Door(Protocol):
    name: str

    def call(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        org: uuid.UUID | None = None,
        scopes: Iterable[str] = READ,
    ) -> Answer: ...


class LambdaDoor:
    name = "lambda"

    def call(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        org: uuid.UUID | None = None,
        scopes: Iterable[str] = READ,
    ) -> Answer:
        from functions.reports.app import lambda_handler

        event = http_event(method, path, query, headers, org_id=org, scopes=list(scopes))
        return invoke(lambda_handler, event)


def invoke(handler: Any, event: dict[str, Any]) -> Answer:
    out = handler(event, FakeContext())
    assert not out.get("isBase64Encoded"), "bodies are text"
    headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
    return Answer(out["statusCode"], headers, out.get("body") or "")


class ServerDoor:
    name = "server"

    def __init__(self, base_url: str, secret: str = TEST_SECRET) -> None:
        self.base_url = base_url
        self.config = AuthConfig(secret=secret)

    def token(self, org: uuid.UUID, scopes: Iterable[str] = READ, ttl_s: int = 300) -> str:
        return mint_token(org_id=org, scopes=scopes, ttl_s=ttl_s, config=self.config)

    def call(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        org: uuid.UUID | None = None,
        scopes: Iterable[str] = READ,
    ) -> Answer:
        sent = dict(headers or {})
        if org is not None:
            sent["Authorization"] = f"Bearer {self.token(org, scopes)}"
        return self.raw(method, path + (f"?{query}" if query else ""), sent)

    def raw(self, method: str, target: str, headers: Mapping[str, str]) -> Answer:
        request = urllib.request.Request(
            self.base_url + target,
            method=method,
            headers=dict(headers),
            data=b"" if method == "POST" else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return _answer(response.status, response.headers.items(), response.read())
        except urllib.error.HTTPError as exc:
            return _answer(exc.code, exc.headers.items(), exc.read())


def _answer(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
    return Answer(status, {k.lower(): v for k, v in headers}, body.decode())


# --- a real server on loopback ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            # The server is the leader of its own session: stop it and its workers together.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_server(command: list[str], env: Mapping[str, str], port: int, log: Path) -> RunningServer:
    """Start a server command, wait until GET /health answers 200 (or fail with its log)."""
    full_env = {**os.environ, **env}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.base_url + "/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not answer /health within 60 s:\n{log.read_text()}")


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "opsmetrics.cli", "serve", "--port", str(port)]


def functions_framework_command(port: int) -> list[str]:
    entry = ROOT / "shared" / "opsmetrics" / "reports" / "ff_entry" / "main.py"
    binary = Path(sys.executable).with_name("functions-framework")
    return [
        str(binary),
        "--target",
        "reports",
        "--source",
        str(entry),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
