"""The exceptions every front door (CLI, Lambda, HTTP) knows how to answer."""

from __future__ import annotations


class OpsmetricsError(Exception):
    """Base class: the message is one line a person can act on."""


class BadRequest(OpsmetricsError):
    """The caller asked for something malformed (unknown job, bad date, reversed range...).

    Raised before anything is written, so nothing changes.
    """


class NotFound(OpsmetricsError):
    """The caller named something that does not exist (an organization, a report)."""


class JobAlreadyRunning(OpsmetricsError):
    """Another run holds the lock for the same job and date and did not finish in time."""


class TooManyRequests(OpsmetricsError):
    """The caller's organization has used its runs for now; `retry_after_s` says when to retry."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServerBusy(OpsmetricsError):
    """This server is doing as much of this kind of work as it takes at once; retry shortly."""


class RequestTooLong(OpsmetricsError):
    """The request's target (path and query) is longer than the server reads."""


class ConfigError(OpsmetricsError):
    """The environment does not describe a usable configuration."""


class Unauthorized(OpsmetricsError):
    """No valid identity (missing, expired or badly signed token)."""


class Forbidden(OpsmetricsError):
    """A valid identity without the scope the request needs."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a stopped container, `kill`): handled like Ctrl-C, so a run closes its row."""


def interrupted(exc: BaseException) -> str:
    """The ledger's reason for a run stopped by its process (not by its own failure)."""
    if isinstance(exc, Terminated):
        return "interrupted: the process was terminated (SIGTERM)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted: Ctrl-C"
    return f"interrupted: {type(exc).__name__}"


# The SQLSTATEs an operator meets, by the names PostgreSQL's documentation gives them (appendix A).
SQLSTATE_NAMES = {
    "08000": "connection_exception",
    "08006": "connection_failure",
    "22003": "numeric_value_out_of_range",
    "22012": "division_by_zero",
    "22P02": "invalid_text_representation",
    "23503": "foreign_key_violation",
    "23505": "unique_violation",
    "25P02": "in_failed_sql_transaction",
    "25P03": "idle_in_transaction_session_timeout",
    "28000": "invalid_authorization_specification",
    "28P01": "invalid_password",
    "3D000": "invalid_catalog_name",
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "42501": "insufficient_privilege",
    "42703": "undefined_column",
    "42P01": "undefined_table",
    "53100": "disk_full",
    "53200": "out_of_memory",
    "53300": "too_many_connections",
    "55P03": "lock_not_available",
    "57014": "query_canceled",
    "57P01": "admin_shutdown",
    "57P02": "crash_shutdown",
    "57P03": "cannot_connect_now",
    "57P04": "database_dropped",
    "57P05": "idle_session_timeout",
}


def one_line(exc: BaseException) -> str:
    """A failure as one readable line: a database error as its SQLSTATE and the server's message,
    a lost connection as such, anything else as its type and first line. Never a driver's raw
    dictionary (pg8000 puts the server's fields in one) nor a traceback; at most 500 characters.
    """
    code, message = sqlstate(exc)
    if message is not None:
        name = SQLSTATE_NAMES.get(str(code))
        label = f" {code} {name}" if name else f" {code}" if code else ""
        return _first_line(f"database error{label}: {message}")
    for cause in causes(exc):
        if isinstance(cause, TimeoutError):
            # The socket's read timeout: the server or the path to it went silent.
            return "database connection lost: no answer from the server within the read timeout"
        if isinstance(cause, ConnectionError):
            return _first_line(f"database connection lost: {type(cause).__name__}: {cause}")
    for cause in causes(exc):
        if type(cause).__name__ == "InterfaceError" and str(cause) == "network error":
            # pg8000's word for a socket that ended: the server or the path to it closed it.
            return "database connection lost: the connection was closed"
    return _first_line(f"{type(exc).__name__}: {exc}")


def sqlstate(exc: BaseException) -> tuple[str | None, str | None]:
    """The SQLSTATE and message of the server's error inside exc, or (None, None)."""
    for cause in causes(exc):
        fields = cause.args[0] if cause.args and isinstance(cause.args[0], dict) else None
        if fields and isinstance(fields.get("M"), str):
            code = fields.get("C")
            return (code if isinstance(code, str) else None), fields["M"]
    return None, None


def causes(exc: BaseException) -> list[BaseException]:
    """exc, the driver's exception SQLAlchemy wraps (`orig`), and their causes and contexts, in
    that order."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in found) or len(found) > 10:
            continue
        found.append(current)
        orig = getattr(current, "orig", None)
        todo.extend(
            [
                orig if isinstance(orig, BaseException) else None,
                current.__cause__,
                current.__context__,
            ]
        )
    return found


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return (lines[0] if lines else "")[:500]
