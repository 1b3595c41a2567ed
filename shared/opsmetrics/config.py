"""Typed settings read from the environment when asked, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from opsmetrics.errors import ConfigError


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    db_secret_arn: str | None = None
    db_ssl_root_cert: str | None = None
    # libpq-style sslmode for URLs and secrets that cannot carry one (RDS secrets): require,
    # verify-ca, verify-full, disable. A ?sslmode= in DATABASE_URL wins.
    db_sslmode: str | None = None
    connect_timeout_s: int = 10
    # Bounds one job transaction; a runaway statement fails the run instead of the Lambda timeout.
    statement_timeout_ms: int = 600_000
    # How long a second run of the same job and date waits for the first before giving up.
    lock_wait_s: int = 300
    data_dir: Path = Path(".opsmetrics")
    hiring_alerts_topic_arn: str | None = None
    # spec §7: how many days before its target a scheduled run (or --catch-up) looks for
    # missed dates to run first.
    catchup_days: int = 14
    # A Lambda invocation starts no further date with less time than this left (the dates not
    # reached stay due for the next tick); one UK-scale date takes a few seconds.
    min_time_left_s: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=_opt(env, "DATABASE_URL"),
            db_secret_arn=_opt(env, "DB_SECRET_ARN"),
            db_ssl_root_cert=_opt(env, "DB_SSL_ROOT_CERT"),
            db_sslmode=_opt(env, "DB_SSLMODE"),
            connect_timeout_s=_int(env, "DB_CONNECT_TIMEOUT", 10),
            statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 600_000),
            lock_wait_s=_int(env, "OPSMETRICS_LOCK_WAIT_SECONDS", 300),
            data_dir=Path(env.get("OPSMETRICS_DATA_DIR", "").strip() or ".opsmetrics"),
            hiring_alerts_topic_arn=_opt(env, "HIRING_ALERTS_TOPIC_ARN"),
            catchup_days=_int(env, "OPSMETRICS_CATCHUP_DAYS", 14),
        )
