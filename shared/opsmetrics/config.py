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


# How much longer than its longest legitimate wait a database read may take before the client
# calls the connection dead (CONTRACT §8: a silent connection fails within the statement
# timeout plus 60 s).
READ_TIMEOUT_MARGIN_S = 60


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
    # How long a second run of the same job and date waits for the first before giving up; also
    # the job sessions' lock_timeout (no statement of a job waits longer for a lock).
    lock_wait_s: int = 300
    # The client's read timeout on every database socket: a connection that has gone silent
    # (half-open, a proxy or NAT that drops packets) fails after this long instead of for ever.
    # None: the longest legitimate wait (statement timeout or lock wait) plus 60 s.
    db_read_timeout_s: int | None = None
    # Job sessions: the server ends a session idle inside its transaction for this long (its
    # client gone silent), which releases the run's advisory lock for the next run.
    idle_in_transaction_timeout_s: int = 60
    data_dir: Path = Path(".opsmetrics")
    hiring_alerts_topic_arn: str | None = None
    # spec §7: how many days before its target a scheduled run (or --catch-up) looks for
    # missed dates to run first.
    catchup_days: int = 14
    # A Lambda invocation starts no further date with less time than this left (the dates not
    # reached stay due for the next tick); one UK-scale date takes a few seconds.
    min_time_left_s: int = 60
    # Runs an organization may start over HTTP (report refreshes, POST /jobs/{job}/runs) per
    # minute, counted in the ledger so every server and Lambda container shares the count;
    # 0 turns the limit off. Operator tokens (no organization) are not limited.
    http_runs_per_minute: int = 6

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
            db_read_timeout_s=_int(env, "DB_READ_TIMEOUT_S", 0) or None,
            idle_in_transaction_timeout_s=_int(env, "DB_IDLE_IN_TRANSACTION_TIMEOUT_S", 60),
            data_dir=Path(env.get("OPSMETRICS_DATA_DIR", "").strip() or ".opsmetrics"),
            hiring_alerts_topic_arn=_opt(env, "HIRING_ALERTS_TOPIC_ARN"),
            catchup_days=_int(env, "OPSMETRICS_CATCHUP_DAYS", 14),
            http_runs_per_minute=_int(env, "OPSMETRICS_HTTP_RUNS_PER_MINUTE", 6),
        )

    @property
    def read_timeout_s(self) -> float:
        """Seconds a database read may wait (see db_read_timeout_s)."""
        if self.db_read_timeout_s:
            return float(self.db_read_timeout_s)
        longest = max(self.statement_timeout_ms / 1000, float(self.lock_wait_s))
        return longest + READ_TIMEOUT_MARGIN_S
