"""The one place that makes database engines.

Resolution order: DATABASE_URL, then the Secrets Manager secret named by DB_SECRET_ARN (the JSON
RDS writes), then (command line only) the embedded PostgreSQL. Engines are made lazily, once per
process and URL, never at import time.
"""

from __future__ import annotations

import ssl
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url

from opsmetrics.config import Settings
from opsmetrics.db_sockets import bound_socket, remember_fatal
from opsmetrics.errors import ConfigError

_DRIVERS = {"postgres", "postgresql", "postgresql+pg8000"}
# libpq spellings that pg8000 does not understand; we translate them instead of passing them on.
_LIBPQ_ONLY = {"sslmode", "host", "sslrootcert", "connect_timeout", "application_name"}
# Seconds a secret is cached: rotation is picked up within this time by new connections.
SECRET_MAX_AGE_S = 300

_engines: dict[tuple[Any, ...], Engine] = {}


def normalize_url(raw: str | URL) -> tuple[URL, dict[str, Any]]:
    """A pg8000 URL plus the connect arguments hidden in libpq-style query parameters."""
    try:
        url = make_url(raw) if isinstance(raw, str) else raw
    except Exception:
        raise ConfigError(
            "DATABASE_URL is not a URL like postgresql://user:pass@host:5432/db"
        ) from None
    if url.drivername not in _DRIVERS:
        raise ConfigError(
            f"DATABASE_URL must be postgresql:// or postgresql+pg8000://, not {url.drivername}://"
        )
    query = dict(url.query)
    extra: dict[str, Any] = {}
    host = query.get("host")
    if isinstance(host, str) and host.startswith("/"):
        # libpq's socket-directory form: ?host=/var/run/postgresql
        extra["unix_sock"] = f"{host}/.s.PGSQL.{url.port or 5432}"
    sslmode = query.get("sslmode")
    if isinstance(sslmode, str):
        extra["sslmode"] = sslmode
    if isinstance(query.get("sslrootcert"), str):
        extra["sslrootcert"] = query["sslrootcert"]
    if isinstance(query.get("application_name"), str):
        extra["application_name"] = query["application_name"]
    kept = {k: v for k, v in query.items() if k not in _LIBPQ_ONLY}
    return url.set(drivername="postgresql+pg8000", query=kept), extra


def url_from_secret(secret: Mapping[str, Any]) -> URL:
    """The URL for the JSON secret RDS writes: host, port, username, password, dbname."""
    missing = [k for k in ("host", "username") if not secret.get(k)]
    if "password" not in secret:
        missing.append("password")  # present but empty is allowed (trust auth in test setups)
    if missing:
        raise ConfigError(f"database secret lacks {', '.join(missing)}")
    try:
        port = int(secret.get("port") or 5432)
    except (TypeError, ValueError):
        raise ConfigError(f"database secret has a bad port: {secret.get('port')!r}") from None
    return URL.create(
        "postgresql+pg8000",
        username=str(secret["username"]),
        password=str(secret["password"]),
        host=str(secret["host"]),
        port=port,
        database=str(secret.get("dbname") or "postgres"),
    )


def ssl_context(root_cert: str | None, sslmode: str | None = None) -> ssl.SSLContext | None:
    """TLS settings. pg8000 does not verify the server by default, so a CA bundle turns it on.

    - DB_SSL_ROOT_CERT set: TLS with certificate and host name verification against that bundle;
    - sslmode=require (no bundle): encrypted, unverified, as libpq does;
    - sslmode=verify-ca / verify-full (no bundle): verified against the system trust store;
    - sslmode=disable, or nothing asked: no TLS.
    """
    if sslmode == "disable":
        return None
    if root_cert:
        if not Path(root_cert).is_file():
            raise ConfigError(f"DB_SSL_ROOT_CERT names no file: {root_cert}")
        ctx = ssl.create_default_context(cafile=root_cert)
        ctx.check_hostname = sslmode != "verify-ca"
        return ctx
    if sslmode in ("verify-ca", "verify-full"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = sslmode == "verify-full"
        return ctx
    if sslmode in ("require", "prefer", "allow"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if sslmode is None:
        return None
    raise ConfigError(f"unknown sslmode {sslmode!r}")


def read_secret(arn: str) -> dict[str, Any]:
    """The secret's JSON through Powertools Parameters, cached for SECRET_MAX_AGE_S."""
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(arn, transform="json", max_age=SECRET_MAX_AGE_S)
    except parameters.exceptions.TransformParameterError:
        raise ConfigError(f"database secret {arn} is not JSON") from None
    if not isinstance(value, dict):
        raise ConfigError(f"database secret {arn} is not a JSON object")
    return value


def resolve_url(settings: Settings, *, allow_embedded: bool) -> str | URL:
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        return url_from_secret(read_secret(settings.db_secret_arn))
    if allow_embedded:
        from opsmetrics import embedded

        return embedded.url(settings.data_dir / "pgdata")
    raise ConfigError("set DATABASE_URL or DB_SECRET_ARN")


def connect_args(extra: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """pg8000 connect arguments from the URL's libpq extras and the settings (URL wins)."""
    args: dict[str, Any] = {"timeout": settings.connect_timeout_s}
    if "unix_sock" in extra:
        args["unix_sock"] = extra["unix_sock"]
    root_cert = extra.get("sslrootcert") or settings.db_ssl_root_cert
    ctx = ssl_context(root_cert, extra.get("sslmode") or settings.db_sslmode)
    if ctx is not None:
        args["ssl_context"] = ctx
    args["application_name"] = extra.get("application_name", "opsmetrics")
    return args


# Connections each process keeps open once made, and may add for a while: a server worker has 8
# threads, each of which may hold one (connections beyond the kept ones are closed on return, so
# a busy server that kept fewer would connect anew on most requests); a Lambda container serves
# one request at a time and makes only the one or two it uses.
POOL_SIZE = 8
POOL_OVERFLOW = 2
# A request waits at most this long for a free connection, then fails (HTTP 503) rather than
# hanging behind others.
POOL_TIMEOUT_S = 10
# The ledger's statements (open, close, sweep a run's row) take milliseconds.
LEDGER_READ_TIMEOUT_S = 20.0

# Each job engine's sibling for the run ledger's own writes (see ledger_engine).
_ledger_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def build_engine(raw: str | URL, settings: Settings) -> Engine:
    url, extra = normalize_url(raw)
    engine = _make_engine(url, extra, settings, POOL_SIZE, POOL_OVERFLOW, settings.read_timeout_s)
    # The ledger's writes (a run's `running` row, its failure record) go through a pool of their
    # own: a run holding its lock must never wait for a connection that the requests queued
    # behind that lock are holding. Its statements are tiny: a short read timeout of its own.
    ledger = _make_engine(
        url, extra, settings, 2, POOL_SIZE, min(LEDGER_READ_TIMEOUT_S, settings.read_timeout_s)
    )
    _ledger_engines[engine] = ledger
    return engine


def ledger_engine(engine: Engine) -> Engine:
    """The engine the run ledger writes through: `engine`'s sibling when build_engine made it."""
    return _ledger_engines.get(engine, engine)


def _make_engine(
    url: URL,
    extra: dict[str, Any],
    settings: Settings,
    size: int,
    overflow: int,
    read_timeout: float,
) -> Engine:
    engine = create_engine(
        url,
        client_encoding="utf8",
        pool_pre_ping=True,
        # Lambda freezes containers for long spells; recycle before servers drop idle sockets.
        pool_recycle=300,
        pool_size=size,
        max_overflow=overflow,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args=connect_args(extra, settings),
    )

    @event.listens_for(engine, "connect")
    def _bound_reads(dbapi_conn: Any, conn_rec: Any) -> None:
        bound_socket(dbapi_conn, read_timeout)
        remember_fatal(dbapi_conn)

    if settings.db_secret_arn and not settings.database_url:
        _follow_secret_rotation(engine, settings.db_secret_arn)
    return engine


def _follow_secret_rotation(engine: Engine, arn: str) -> None:
    """New connections take the secret's current credentials (cached), so rotation just works."""

    @event.listens_for(engine, "do_connect")
    def _fresh_credentials(
        dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]
    ) -> None:
        url = url_from_secret(read_secret(arn))
        cparams.update(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
            database=url.database,
        )


def get_engine(settings: Settings | None = None, *, allow_embedded: bool = False) -> Engine:
    """The process-wide engine for these settings, made on first use."""
    settings = settings or Settings.from_env()
    source: tuple[str, ...]
    if settings.database_url:
        source = ("url", settings.database_url)
    elif settings.db_secret_arn:
        # One engine per secret, whatever its current password: rotation is handled per connection.
        source = ("secret", settings.db_secret_arn)
    else:
        source = ("embedded", str(settings.data_dir.resolve()), str(allow_embedded))
    key = (
        *source,
        settings.db_ssl_root_cert,
        settings.db_sslmode,
        settings.connect_timeout_s,
        settings.read_timeout_s,
    )
    engine = _engines.get(key)
    if engine is None:
        raw = resolve_url(settings, allow_embedded=allow_embedded)
        engine = _engines[key] = build_engine(raw, settings)
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    for ledger in list(_ledger_engines.values()):
        ledger.dispose()  # closes its connections; the engine stays usable
    _engines.clear()
