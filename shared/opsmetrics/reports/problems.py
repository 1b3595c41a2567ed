"""Exceptions -> HTTP answers, in one place, for both front doors.

Every error is JSON `{"error": {"status": 400, "message": "..."}}`, never cached. Anything not
listed here is a 500 with a generic message; the details go to the log, not to the caller.
"""

from __future__ import annotations

import json

from opsmetrics.errors import (
    BadRequest,
    Forbidden,
    JobAlreadyRunning,
    NotFound,
    OpsmetricsError,
    RequestTooLong,
    ServerBusy,
    TooManyRequests,
    Unauthorized,
)
from opsmetrics.reports.messages import Response

JSON = "application/json; charset=utf-8"
GENERIC_500 = "internal error; it has been logged"


class MethodNotAllowed(OpsmetricsError):
    """The path exists, but not for this method."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class MissingToken(Unauthorized):
    """No credentials at all (as opposed to bad ones)."""


class MissingScope(Forbidden):
    """A valid identity without the scope the route needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"this token lacks the {scope} scope")
        self.scope = scope


class RefreshFailed(OpsmetricsError):
    """The recompute ran and failed; the previous figures stand. The message is safe to show."""


_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (JobAlreadyRunning, 409),
    (RequestTooLong, 414),
    (TooManyRequests, 429),
    (ServerBusy, 503),
    (RefreshFailed, 500),
)
# A caller told to come back: when the database is out of reach or every connection is busy.
UNAVAILABLE_RETRY_AFTER_S = 5


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"error": {"status": status, "message": message}})
    return Response(
        status,
        body,
        {"Content-Type": JSON, "Cache-Control": "no-store", **(headers or {})},
    )


def status_of(exc: BaseException) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


# PostgreSQL's character_not_in_repertoire: a bound value holds bytes the database cannot store
# (a NUL, say). Only a request's values get there, so it is the caller's mistake, not ours.
_UNSTORABLE_VALUE = "22021"


def _unstorable_value(exc: BaseException) -> bool:
    details = getattr(getattr(exc, "orig", None), "args", None) or (None,)
    first = details[0]
    return isinstance(first, dict) and first.get("C") == _UNSTORABLE_VALUE


def _unavailable(exc: BaseException) -> bool:
    """No free connection in time (the pool's timeout), or the connection to the database lost."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError):
        return True  # pg8000 lets some socket errors through unwrapped
    if not isinstance(exc, DBAPIError):
        return False
    # A connection lost mid-request, or one that could not be made (refused, unknown host: the
    # driver's error wraps the socket's).
    from opsmetrics.errors import causes

    return bool(exc.connection_invalidated) or any(isinstance(c, OSError) for c in causes(exc)[1:])


def to_response(exc: Exception) -> Response:
    """The answer for an exception raised while serving a request."""
    status = status_of(exc)
    if status == 500 and _unstorable_value(exc):
        from opsmetrics.observability import logger

        # Logged: whoever decoded the value (a cursor, say) should have refused it earlier.
        logger().warning("request value the database cannot store", exc_info=exc)
        return error_response(400, "a parameter (or cursor) holds characters that are not text")
    if status == 500 and _unavailable(exc):
        from opsmetrics.errors import one_line
        from opsmetrics.observability import logger

        logger().warning(
            "database unavailable while serving a request", extra={"error": one_line(exc)}
        )
        return error_response(
            503,
            "the database is unavailable or busy; try again shortly",
            {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
        )
    if status == 500 and not isinstance(exc, RefreshFailed):
        from opsmetrics.observability import logger

        logger().exception("unhandled error while serving a request")
        return error_response(500, GENERIC_500)
    headers: dict[str, str] = {}
    if isinstance(exc, MissingToken):
        headers["WWW-Authenticate"] = 'Bearer realm="opsmetrics"'
    elif isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="opsmetrics", error="invalid_token"'
    elif isinstance(exc, MissingScope):
        headers["WWW-Authenticate"] = (
            f'Bearer realm="opsmetrics", error="insufficient_scope", scope="{exc.scope}"'
        )
    elif isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    elif isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif isinstance(exc, JobAlreadyRunning | ServerBusy):
        from opsmetrics.reports.http_runs import RETRY_AFTER_S

        headers["Retry-After"] = str(RETRY_AFTER_S)
    return error_response(status, str(exc) or "error", headers)
