"""The link that opens the dashboard signed in: the token rides in the URL fragment, which the
browser keeps to itself (never sent to the server, never in its logs), as an OIDC redirect would
hand it over."""

from __future__ import annotations

import webbrowser
from urllib.parse import quote

from opsmetrics.reports.auth import JOBS_READ_SCOPE, JOBS_RUN_SCOPE, ORG_DEFAULT_SCOPES

# Everything the dashboard shows and does for one organization: its reports, its run calendar,
# and the buttons that run a date.
DASHBOARD_SCOPES = (*ORG_DEFAULT_SCOPES, JOBS_READ_SCOPE, JOBS_RUN_SCOPE)


def dashboard_url(token: str, host: str = "127.0.0.1", port: int = 8080) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/#access_token={quote(token, safe='')}"


def open_in_browser(url: str) -> bool:
    """Open `url` where a browser is at hand; False (and nothing opened) where none is."""
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False
