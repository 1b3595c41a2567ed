"""Failures the command line turns into one line with the fix in it, and the exit code for each.

cli.main catches what a person can cause (bad input, a missing extra, a database it cannot
reach) and asks `explain` for the line; anything not recognised here is "unexpected", still one
line (`-v` re-raises it with its traceback, for a bug report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsmetrics.errors import (
    BadRequest,
    ConfigError,
    JobAlreadyRunning,
    NotFound,
    OpsmetricsError,
    causes,
    one_line,
    sqlstate,
)

EXIT_FAILED = 1
EXIT_BAD_REQUEST = 2
EXIT_BUSY = 3

# Modules only an extra installs, and the extra that brings each.
EXTRA_OF_MODULE = {
    "functions_framework": "http",
    "flask": "http",
    "gunicorn": "http",
    "werkzeug": "http",
    "jwt": "http",
    "cryptography": "http",
    "pgserver": "local",
}
EXTRA_PURPOSE = {
    "http": "the HTTP server and tokens",
    "local": "the embedded PostgreSQL",
}
# SQLSTATEs of a refused login: invalid_authorization_specification, invalid_password.
LOGIN_REFUSED = ("28000", "28P01")
# pg8000's words when the TCP connection cannot be made at all.
_NO_CONNECTION = re.compile(r"Can't create a connection to host (\S+) and port (\d+)")


@dataclass(frozen=True)
class Explained:
    code: int
    line: str  # without the "opsmetrics COMMAND: " prefix
    unexpected: bool = False


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """`needs the http extra: pip install 'opsmetrics[http]'`, for a module an extra brings."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return (
        f"needs the `{extra}` extra ({EXTRA_PURPOSE[extra]}; module {top} is not installed):"
        f" pip install 'opsmetrics[{extra}]'"
    )


def database_unreachable(exc: BaseException) -> str | None:
    """A connection that could not be made (refused, unknown host, timed out), or None."""
    for cause in causes(exc):
        found = _NO_CONNECTION.search(str(cause))
        if found:
            host, port = found.groups()
            reason = next(
                (
                    f"{type(c).__name__}: {c.strerror or c}"
                    for c in causes(cause)
                    if isinstance(c, OSError)
                ),
                "no answer",
            )
            return (
                f"cannot connect to PostgreSQL at {host}:{port} ({reason}):"
                " is the server running there? Check the host and port in DATABASE_URL"
            )
    return None


def explain(exc: BaseException) -> Explained:
    if isinstance(exc, BadRequest | NotFound):
        line = str(exc)
        if line.startswith("unknown organization") and "opsmetrics orgs" not in line:
            line += ": `opsmetrics orgs` lists the organizations"  # where ids come from
        return Explained(EXIT_BAD_REQUEST, line)
    if isinstance(exc, JobAlreadyRunning):
        return Explained(EXIT_BUSY, str(exc))
    if isinstance(exc, ConfigError | OpsmetricsError):
        return Explained(EXIT_FAILED, str(exc))
    if isinstance(exc, ModuleNotFoundError) and (hint := missing_extra(exc)):
        return Explained(EXIT_FAILED, hint)
    unreachable = database_unreachable(exc)
    if unreachable:
        return Explained(EXIT_FAILED, unreachable)
    code, message = sqlstate(exc)
    if code in LOGIN_REFUSED:
        return Explained(
            EXIT_FAILED,
            f"PostgreSQL refused the login (database error {code}: {message}):"
            " check the user name and password in DATABASE_URL",
        )
    if code == "3D000":  # invalid_catalog_name: the database itself is missing
        return Explained(
            EXIT_FAILED,
            f"{message}: create it (CREATE DATABASE) or point DATABASE_URL at the right one",
        )
    if code is not None and code.startswith("42") and "does not exist" in (message or ""):
        # an undefined table, column or function: a database without our schema, or behind it
        return Explained(
            EXIT_FAILED,
            "the database lacks the opsmetrics schema or is behind it: run `opsmetrics db upgrade`",
        )
    return Explained(EXIT_FAILED, f"unexpected {one_line(exc)}", unexpected=True)
