"""Every setting opsmetrics reads from the environment, declared once: its variable, type,
default and meaning (config_fields.py says how).

Each front door reads them once with `Settings.from_env()` and passes the object down: the
command line's `main`, each Lambda invocation (`lambda_jobs.run_job_event`, the reports
handler), the HTTP server's start (`reports.server.serve`, or a bare functions-framework target's
first request). Nothing reads them at import time. A bad value is a ConfigError naming its
variable.

The README's table of settings is printed by `.venv/bin/python -m opsmetrics.config`;
tests/foundation/test_settings_table.py fails when the two differ.

Powertools' own variables: see `READ_BY_POWERTOOLS` and `PowertoolsSettings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from opsmetrics.config_fields import (
    EnvVar,
    env_vars,
    markdown_table,
    path,
    read,
    text,
    text_or,
    whole,
    whole_or_none,
)

# How much longer than its longest legitimate wait a database read may take before the client
# calls the connection dead (spec §8: a silent connection fails within the statement
# timeout plus 60 s).
READ_TIMEOUT_MARGIN_S = 60


class _FromEnv:
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read from `env` (default: this process's environment)."""
        return read(cls, os.environ if env is None else env)


@dataclass(frozen=True)
class AuthSettings(_FromEnv):
    """The keys the functions-framework door verifies bearer tokens with (reports/auth.py
    resolves them; in AWS, API Gateway's JWT authorizer verifies instead)."""

    jwt_secret: str | None = text(
        "OPSMETRICS_JWT_SECRET",
        "HS256 key for local tokens (`opsmetrics token`, `opsmetrics serve`).",
        shown="a public development key, loopback only",
    )
    jwks_file: str | None = text(
        "OPSMETRICS_JWKS_FILE",
        "A file of RS256/ES256 keys that `serve` and functions-framework verify tokens with.",
    )
    jwks_url: str | None = text(
        "OPSMETRICS_JWKS_URL",
        "The URL of RS256/ES256 keys that `serve` and functions-framework verify tokens with.",
    )
    jwt_issuer: str | None = text(
        "OPSMETRICS_JWT_ISSUER", "The issuer (`iss`) tokens must name; checked when set."
    )
    jwt_audience: str | None = text(
        "OPSMETRICS_JWT_AUDIENCE", "The audience (`aud`) tokens must name; checked when set."
    )


@dataclass(frozen=True)
class HttpSettings(_FromEnv):
    """The HTTP reports API's process: its threads and its cache of rendered answers."""

    report_cache_mb: int = whole(
        "OPSMETRICS_REPORT_CACHE_MB",
        64,
        "The in-process cache of rendered report answers, per organization. An organization's"
        " answers are dropped when a run covering it is recorded in `job_runs` (another"
        " organization's refresh leaves them), and live at most 5 minutes. `0` turns it off.",
    )
    # One worker process (the embedded database and the answer cache live per process) with a
    # thread per concurrent request; the database pool (db.POOL_SIZE + db.POOL_OVERFLOW)
    # covers them all. THREADS is the variable functions-framework itself reads.
    threads: int = whole("THREADS", 8, "Threads of `opsmetrics serve` (one worker process).")


@dataclass(frozen=True)
class PowertoolsSettings(_FromEnv):
    """The names Powertools' logger and metrics carry. Read by observability.py when it makes
    the process's Logger and Metrics (on first use, which for the reports handler is its
    import): they are process-wide Powertools objects, older than any front door's settings.
    Only the defaults are opsmetrics' own; Powertools reads the variables the same way."""

    service_name: str = text_or(
        "POWERTOOLS_SERVICE_NAME",
        "opsmetrics",
        "The `service` of every log line and metric. Logs are JSON on stderr in Lambda; on the"
        " command line, short lines unless `-v`.",
    )
    metrics_namespace: str = text_or(
        "POWERTOOLS_METRICS_NAMESPACE", "Opsmetrics", "The CloudWatch namespace of the metrics."
    )


# Read by Powertools itself, never by opsmetrics; declared here so the README lists them.
READ_BY_POWERTOOLS = (
    EnvVar(
        "POWERTOOLS_LOG_LEVEL",
        "The level of the JSON logs in Lambda (the command line logs warnings, or with `-v` INFO).",
        "`INFO`",
    ),
)


@dataclass(frozen=True)
class Settings(_FromEnv):
    database_url: str | None = text(
        "DATABASE_URL",
        "`postgresql+pg8000://user:pass@host:port/db`. A plain `postgresql://` URL gets pg8000."
        " `?sslmode=` and `?host=/socket/dir` are understood.",
    )
    db_secret_arn: str | None = text(
        "DB_SECRET_ARN",
        "A Secrets Manager secret holding the JSON RDS writes (host, port, username, password,"
        " dbname). It is read through Powertools Parameters and cached for 5 minutes. New"
        " connections pick up a rotated secret.",
    )
    db_ssl_root_cert: str | None = text(
        "DB_SSL_ROOT_CERT",
        "A CA bundle. Setting it turns on TLS with certificate and host-name checks (pg8000"
        " does not verify by default).",
    )
    # libpq-style sslmode for URLs and secrets that cannot carry one (RDS secrets).
    db_sslmode: str | None = text(
        "DB_SSLMODE",
        "`require` (encrypted, not verified), `verify-ca`, `verify-full` or `disable`, for"
        " secrets that cannot carry one. A `?sslmode=` in the URL wins.",
        shown="none (template: `require`)",
    )
    connect_timeout_s: int = whole("DB_CONNECT_TIMEOUT", 10, "Seconds to wait for a connection.")
    # Bounds one job transaction; a runaway statement fails the run instead of the Lambda timeout.
    statement_timeout_ms: int = whole(
        "DB_STATEMENT_TIMEOUT_MS", 600_000, "The statement timeout inside each job transaction."
    )
    # None: the longest legitimate wait (statement timeout or lock wait) plus 60 s; see
    # read_timeout_s.
    db_read_timeout_s: int | None = whole_or_none(
        "DB_READ_TIMEOUT_S",
        "How long the client waits for any answer from the database before it calls the"
        " connection dead (a half-open or silent connection).",
        shown="the statement timeout or lock wait, whichever is longer, plus 60 s",
    )
    # Job sessions: ending such a session releases the run's advisory lock for the next run.
    idle_in_transaction_timeout_s: int = whole(
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_S",
        60,
        "A job's session left idle inside its transaction this long (its client gone silent)"
        " is ended by the server, which frees the run's lock.",
    )
    # Also the job sessions' lock_timeout.
    lock_wait_s: int = whole(
        "OPSMETRICS_LOCK_WAIT_SECONDS",
        300,
        "How long a second run of the same job and date waits for the first; also the longest"
        " any job statement waits for a lock.",
    )
    # Counted in the ledger so every server and Lambda container shares the count. Operator
    # tokens (no organization) are not limited.
    http_runs_per_minute: int = whole(
        "OPSMETRICS_HTTP_RUNS_PER_MINUTE",
        6,
        "Refreshes and job runs one organization may start over HTTP per minute (then 429 with"
        " `Retry-After`); counted in `job_runs`, so shared by every server and container. `0`:"
        " no limit.",
    )
    # spec §7.
    catchup_days: int = whole(
        "OPSMETRICS_CATCHUP_DAYS",
        14,
        "How many days before its target a scheduled run (or `run --catch-up`) looks for due"
        " dates to run first. `0` turns catch-up off.",
    )
    data_dir: Path = path(  # noqa: RUF009 - a declared field; its default, a Path, is immutable
        "OPSMETRICS_DATA_DIR",
        Path(".opsmetrics"),
        "Where the embedded PostgreSQL keeps its data (command line only).",
    )
    hiring_alerts_topic_arn: str | None = text(
        "HIRING_ALERTS_TOPIC_ARN",
        "An SNS topic for critical hiring triggers, one message per organization.",
    )
    auth: AuthSettings = field(default_factory=AuthSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    lambda_function_name: str | None = text(
        "AWS_LAMBDA_FUNCTION_NAME",
        "Set by the Lambda runtime, never by hand: per-run metrics are written only when it is"
        " set (elsewhere nothing would flush them).",
        shown="none (Lambda sets it)",
    )
    powertools: PowertoolsSettings = field(default_factory=PowertoolsSettings)
    # Not read from the environment: a Lambda invocation starts no further date with less time
    # than this left (the dates not reached stay due for the next tick); one UK-scale date takes
    # a few seconds.
    min_time_left_s: int = 60

    @property
    def in_lambda(self) -> bool:
        return self.lambda_function_name is not None

    @property
    def read_timeout_s(self) -> float:
        """Seconds a database read may wait (see db_read_timeout_s)."""
        if self.db_read_timeout_s:
            return float(self.db_read_timeout_s)
        longest = max(self.statement_timeout_ms / 1000, float(self.lock_wait_s))
        return longest + READ_TIMEOUT_MARGIN_S


def documented_vars() -> list[EnvVar]:
    """Every variable the README's table lists: the settings', then Powertools' own."""
    return [*env_vars(Settings), *READ_BY_POWERTOOLS]


def settings_table() -> str:
    """The README's table of settings, in Markdown."""
    return markdown_table(documented_vars())


if __name__ == "__main__":
    print(settings_table(), end="")
