"""The embedded PostgreSQL 16 (pgserver) used when no DATABASE_URL is given.

Its data lives in a local folder (git-ignored) and is reused by the next run. The server is
shared by every process that uses the folder and stops when the last of them exits.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from opsmetrics.errors import ConfigError

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_servers: dict[Path, Any] = {}


def start(pgdata: Path) -> Any:
    """Start (or attach to) the server whose data folder is `pgdata`."""
    pgdata = pgdata.resolve()
    if pgdata in _servers:
        return _servers[pgdata]
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine for us.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            raise ConfigError(
                "no DATABASE_URL is set and the embedded PostgreSQL is not installed: "
                "pip install 'opsmetrics[local]' or set DATABASE_URL"
            ) from None
        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    _servers[pgdata] = server
    return server


def url(pgdata: Path, database: str = "opsmetrics") -> str:
    """A pg8000 URL to `database` on the embedded server, creating the database if needed."""
    if not _DB_NAME.match(database):
        raise ConfigError(f"not a usable database name: {database!r}")
    server = start(pgdata)
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    sock = Path(info.socket_dir) / f".s.PGSQL.{info.port}"
    return f"postgresql+pg8000://postgres@/{database}?unix_sock={sock}"


def drop_database(pgdata: Path, database: str) -> None:
    if not _DB_NAME.match(database):
        raise ConfigError(f"not a usable database name: {database!r}")
    # psql runs each line on its own, so the SET quiets the NOTICE for a missing database.
    start(pgdata).psql(
        f'SET client_min_messages = warning;\nDROP DATABASE IF EXISTS "{database}" WITH (FORCE);'
    )
