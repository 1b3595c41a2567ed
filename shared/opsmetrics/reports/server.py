"""The functions-framework front door: one HTTP target, `reports`, that dispatches by path through
the same routing table as Lambda, verifying the bearer JWT itself (see opsmetrics.reports.auth).

- locally: `opsmetrics serve [--host 127.0.0.1] [--port 8080]` (embedded PostgreSQL when
  DATABASE_URL is unset);
- Cloud Run / Cloud Functions: a main.py holding `from opsmetrics.reports.server import reports`
  and `functions-framework --target reports` (or the platform's entry point `reports`).

Settings are read once per process, never at import: by `serve` before the server starts (the
command line's, passed in), or for a bare functions-framework target on its first request.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsmetrics.config import Settings
from opsmetrics.reports.auth import AuthConfig, TokenVerifier, warn_local_default
from opsmetrics.reports.messages import Request, Response, lower_headers
from opsmetrics.reports.route_model import HandlerDeps
from opsmetrics.reports.routes import dispatch

if TYPE_CHECKING:
    import flask
    from sqlalchemy import Engine

    from opsmetrics.reports.messages import Identity

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The file functions-framework loads as its source: a two-line shim that imports `reports` from
# this module, so the module is imported once, normally, and keeps one state.
ENTRY_SOURCE = Path(__file__).with_name("ff_entry") / "main.py"


@dataclass
class _State:
    allow_embedded: bool = False
    allow_local_key: bool = False
    settings: Settings | None = None
    verifier: TokenVerifier | None = None


_state = _State()
_lock = threading.Lock()


def configure(
    settings: Settings, *, allow_embedded: bool = False, allow_local_key: bool = False
) -> None:
    """Set by `serve` before the server starts; a bare functions-framework target uses neither
    allowance and reads its settings on the first request."""
    with _lock:
        _state.settings = settings
        _state.allow_embedded = allow_embedded
        _state.allow_local_key = allow_local_key
        _state.verifier = None


def _settings() -> Settings:
    settings = _state.settings
    if settings is None:
        with _lock:
            if _state.settings is None:
                _state.settings = Settings.from_env()
            settings = _state.settings
    return settings


def _verifier() -> TokenVerifier:
    verifier = _state.verifier
    if verifier is None:
        auth = _settings().auth
        with _lock:
            if _state.verifier is None:
                config = AuthConfig.from_settings(auth, allow_local_default=_state.allow_local_key)
                _state.verifier = TokenVerifier(config)
            verifier = _state.verifier
    return verifier


def _engine() -> Engine:
    from opsmetrics.db import get_engine

    return get_engine(_settings(), allow_embedded=_state.allow_embedded)


DEPS = HandlerDeps(engine=_engine, settings=_settings, today=lambda: datetime.now(UTC).date())


def to_request(request: flask.Request) -> Request:
    headers = lower_headers(dict(request.headers))

    def authenticate() -> Identity:
        return _verifier().identify(headers.get("authorization"))

    return Request(
        method=request.method.upper(),
        path=request.path,
        query_string=request.query_string.decode("utf-8", "replace"),
        headers=headers,
        authenticate=authenticate,
    )


def to_flask(response: Response) -> flask.Response:
    import flask

    out = flask.Response(response.body, status=response.status, headers=response.headers)
    if "Content-Type" not in response.headers:
        del out.headers["Content-Type"]  # Flask's text/html default would be a lie (304)
    return out


def reports(request: flask.Request) -> flask.Response:
    """The functions-framework HTTP target: every path of the reports API."""
    return to_flask(dispatch(to_request(request), DEPS))


def serve(host: str, port: int, settings: Settings | None = None) -> None:
    """`opsmetrics serve`: the target under functions-framework's production server (gunicorn).
    `settings`: the command line's; None reads them here (the server's own front door)."""
    import functions_framework

    settings = Settings.from_env() if settings is None else settings
    loopback = host in LOOPBACK_HOSTS
    # ConfigError names the fix
    config = AuthConfig.from_settings(settings.auth, allow_local_default=loopback)
    if config.local_default:
        warn_local_default("opsmetrics serve")
    embedded = not (settings.database_url or settings.db_secret_arn)
    configure(settings, allow_embedded=True, allow_local_key=loopback)
    if embedded:
        # Start (or attach to) the embedded server here, in the parent process, so it outlives
        # the workers, and give it the schema (a local, disposable database: nothing to install).
        from opsmetrics import migrations
        from opsmetrics.db import dispose_engines, get_engine

        migrations.upgrade(get_engine(settings, allow_embedded=True))
        dispose_engines()  # the workers open their own connections
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="reports", source=str(ENTRY_SOURCE)
    )
    database = "embedded PostgreSQL" if embedded else "DATABASE_URL"
    sys.stderr.write(
        f"serving the reports API on http://{host}:{port} ({database});"
        ' try: curl -H "Authorization: Bearer $(opsmetrics token --org ORG_ID)"'
        f" http://{host}:{port}/reports/territories\n"
        f"the dashboard: http://{host}:{port}/ (a link that signs in:"
        f" opsmetrics token --org ORG_ID --open --port {port})\n"
    )
    _gunicorn(app, host, port, settings.http.threads).run()


# The request line (method, target, version) gunicorn reads before refusing with 414; the
# routing table refuses a longer path and query the same way (routes.MAX_TARGET_BYTES).
REQUEST_LINE_BYTES = 8190


def _gunicorn(app: flask.Flask, host: str, port: int, threads: int) -> Any:
    """gunicorn's documented custom-application API with the limits above (functions-framework's
    own server reads request lines of any length): one worker process (the embedded database and
    the answer cache live per process), `threads` threads (config.HttpSettings.threads)."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "threads": threads,
                "limit_request_line": REQUEST_LINE_BYTES,
                "limit_request_field_size": REQUEST_LINE_BYTES,
                "loglevel": "error",
                "timeout": 0,  # requests bound their own time (http_runs, statement timeouts)
                # Ctrl-C or SIGTERM: requests get this long to finish (gunicorn's 30 s felt
                # like a hang at a terminal; every request here is bounded well below it).
                "graceful_timeout": 5,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> flask.Flask:
            return app

    return _Server()
