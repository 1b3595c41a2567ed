"""Serving the dashboard's files: read lazily, once per process, and sent with headers that keep
the page to its own origin and its own scripts.

Lambda cold start: nothing is read at import; the first request for a file reads it (a few KB).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from opsmetrics.errors import NotFound
from opsmetrics.reports.messages import Response

if TYPE_CHECKING:
    from opsmetrics.reports.route_model import Call, HandlerDeps

_PACKAGE = "opsmetrics.dashboard"
PAGE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Scripts, styles and fetches only from this origin: no inline script, no inline style sheet, no
# other host. Charts are SVG and CSS drawn by the page's own script.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
# The files change only with a deployment, but a stale script beside a new API would be worse
# than a revalidation: clients keep them and ask again with the ETag (304, no body).
CACHE_CONTROL = "no-cache"


def index(call: Call, deps: HandlerDeps) -> Response:
    return _file_response(PAGE)


def asset(call: Call, deps: HandlerDeps) -> Response:
    name = call.path.get("file", "")
    if name == PAGE or name not in asset_names():
        raise NotFound(f"no dashboard file {name[:60]!r}")
    return _file_response(name)


# Not a file: the rules the page colours and labels by, written from territory/rules.py when asked
# for, so that a changed threshold reaches the page with the deployment that changes it.
RULES_MODULE = "rules.js"


def rules_module() -> str:
    import json

    from opsmetrics.territory.rules import FOR_THE_DASHBOARD

    return (
        "// Generated from opsmetrics/territory/rules.py: the thresholds the page shows.\n"
        f"export const RULES = Object.freeze({json.dumps(FOR_THE_DASHBOARD, sort_keys=True)});\n"
    )


@cache
def asset_names() -> tuple[str, ...]:
    """The files under /assets/: every script, style sheet and icon shipped in `static/`."""
    from importlib import resources  # here, not at import: ~20 ms of a Lambda cold start

    folder = resources.files(_PACKAGE).joinpath("static")
    files = [
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and _suffix(entry.name) in CONTENT_TYPES and entry.name != PAGE
    ]
    return tuple(sorted([*files, RULES_MODULE]))


@cache
def _read(name: str) -> str:
    from importlib import resources

    if name == RULES_MODULE:
        return rules_module()
    return resources.files(_PACKAGE).joinpath("static", name).read_text(encoding="utf-8")


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _file_response(name: str) -> Response:
    headers = {
        "Content-Type": CONTENT_TYPES[_suffix(name)],
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if name == PAGE:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    return Response(200, _read(name), headers)
