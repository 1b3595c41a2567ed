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


class ConfigError(OpsmetricsError):
    """The environment does not describe a usable configuration."""


class Unauthorized(OpsmetricsError):
    """No valid identity (missing, expired or badly signed token)."""


class Forbidden(OpsmetricsError):
    """A valid identity without the scope the request needs."""


def one_line(exc: BaseException) -> str:
    """A failure as one readable line: a database error as its SQLSTATE and the server's message,
    a lost connection as such, anything else as its type and first line. Never a driver's raw
    dictionary (pg8000 puts the server's fields in one) nor a traceback; at most 500 characters.
    """
    for cause in _causes(exc):
        fields = cause.args[0] if cause.args and isinstance(cause.args[0], dict) else None
        if fields and isinstance(fields.get("M"), str):
            code = fields.get("C")
            text = (
                f"database error {code}: {fields['M']}"
                if code
                else f"database error: {fields['M']}"
            )
            return _first_line(text)
    for cause in _causes(exc):
        if isinstance(cause, ConnectionError | TimeoutError):
            return _first_line(f"database connection lost: {type(cause).__name__}: {cause}")
    return _first_line(f"{type(exc).__name__}: {exc}")


def sqlstate(exc: BaseException) -> tuple[str | None, str | None]:
    """The SQLSTATE and message of the server's error inside exc, or (None, None)."""
    for cause in _causes(exc):
        fields = cause.args[0] if cause.args and isinstance(cause.args[0], dict) else None
        if fields and isinstance(fields.get("M"), str):
            code = fields.get("C")
            return (code if isinstance(code, str) else None), fields["M"]
    return None, None


def causes(exc: BaseException) -> list[BaseException]:
    """exc and every exception behind it (SQLAlchemy's `orig`, causes, contexts)."""
    return _causes(exc)


def _causes(exc: BaseException) -> list[BaseException]:
    """exc, the driver's exception SQLAlchemy wraps (`orig`), and their causes, in that order."""
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
