"""The dashboard's files through both front doors (no browser needed): the same bytes, types and
headers from an API Gateway event into the Lambda handler as from `opsmetrics serve`, public, and
nothing outside the shipped files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from opsmetrics.dashboard import pages
from opsmetrics.dashboard.pages import CONTENT_SECURITY_POLICY, asset_names
from tests.http.doors import Answer, LambdaDoor, ServerDoor, invoke
from tests.http.events import http_event

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "shared" / "opsmetrics" / "dashboard" / "static"
SAMPLE = ROOT / "infra" / "events" / "reports" / "dashboard.json"


@pytest.fixture
def server(http_server: object) -> ServerDoor:
    from tests.http.doors import RunningServer

    assert isinstance(http_server, RunningServer)
    return ServerDoor(http_server.base_url)


def _lambda(path: str, headers: dict[str, str] | None = None, stage: str = "$default") -> Answer:
    from functions.reports.app import lambda_handler

    return invoke(lambda_handler, http_event("GET", path, headers=headers, stage=stage))


def test_the_page_through_both_doors_is_the_same(server: ServerDoor) -> None:
    by_lambda = _lambda("/")
    by_server = server.raw("GET", "/", {})
    for answer in (by_lambda, by_server):
        assert answer.status == 200
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.body == (STATIC / "index.html").read_text()
    assert by_lambda.headers["etag"] == by_server.headers["etag"]
    again = _lambda("/", {"if-none-match": by_lambda.headers["etag"]})
    assert (again.status, again.body) == (304, "")


def test_every_shipped_file_and_nothing_else(server: ServerDoor) -> None:
    files = sorted(p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css", ".svg"))
    # rules.js is not a file: it is written from territory/rules.py (pages.rules_module).
    shipped = {name: (STATIC / name).read_text() for name in files}
    shipped[pages.RULES_MODULE] = pages.rules_module()
    assert list(asset_names()) == sorted(shipped)
    # Every module the page imports is one of them (a missing file would break the page).
    wanted = {"main.js", "dashboard.css"}
    for name in files:
        if name.endswith(".js"):
            wanted |= set(re.findall(r'from "\./([\w-]+\.js)"', shipped[name]))
    assert wanted <= set(shipped)
    kinds = {
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }
    for name, body in shipped.items():
        for answer in (_lambda(f"/assets/{name}"), server.raw("GET", f"/assets/{name}", {})):
            assert answer.status == 200, name
            assert answer.headers["content-type"] == kinds[Path(name).suffix]
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.body == body
    for bad in ("/assets/nothing.js", "/assets/index.html", "/assets/..%2Fpages.py", "/assets/"):
        assert _lambda(bad).status == 404, bad
        assert server.raw("GET", bad, {}).status == 404, bad


def test_the_page_takes_its_threshold_from_the_rules() -> None:
    from opsmetrics.territory.rules import HIRING_UTILIZATION

    module = pages.rules_module()
    assert f'"overloadedAbove": {float(HIRING_UTILIZATION)}' in module
    # and the territories view uses it where it used to write 80
    view = (STATIC / "view-territories.js").read_text()
    assert 'from "./rules.js"' in view and "RULES.overloadedAbove" in view


def test_the_page_needs_no_token_but_the_data_does(server: ServerDoor) -> None:
    """Public in both doors (a bad token is ignored on the page as on /health); the page itself
    carries no data, which the JSON routes keep behind the token."""
    assert server.raw("GET", "/", {"Authorization": "Bearer not-a-token"}).status == 200
    assert LambdaDoor().call("GET", "/reports/territories").status == 401
    assert server.raw("GET", "/reports/territories", {}).status == 401


def test_the_page_on_a_named_stage() -> None:
    answer = _lambda("/", stage="prod")
    assert answer.status == 200 and "<title>" in answer.body
    # Relative addresses, so the page's files and data come from under the stage too.
    assert 'src="assets/main.js"' in answer.body and 'href="assets/dashboard.css"' in answer.body


@pytest.mark.db  # `opsmetrics invoke` starts the embedded PostgreSQL without DATABASE_URL
def test_the_sample_event(capsys: pytest.CaptureFixture[str]) -> None:
    """infra/events/reports/dashboard.json through `opsmetrics invoke`, as `sam local invoke`
    would send it."""
    from opsmetrics.cli import main

    assert main(["invoke", "reports", "--event", str(SAMPLE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["statusCode"] == 200
    assert out["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in out["headers"]
    assert out["body"] == (STATIC / "index.html").read_text()


def test_nothing_is_read_at_import() -> None:
    """Lambda cold start: importing the reports handler reads none of the dashboard's files; the
    first request for one reads it."""
    import subprocess
    import sys

    probe = (
        "import functions.reports.app\n"
        "from opsmetrics.dashboard import pages\n"
        "print(pages._read.cache_info().currsize, pages.asset_names.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "0"]


def test_without_a_browser_the_tests_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.browser.chrome import missing_browser

    monkeypatch.setenv("OPSMETRICS_CHROMIUM", "/nonexistent/chromium")
    assert missing_browser() == (
        "no Chromium: apt-get install chromium chromium-driver (or OPSMETRICS_CHROMIUM=path)"
    )
    monkeypatch.delenv("OPSMETRICS_CHROMIUM")
    monkeypatch.setenv("OPSMETRICS_CHROMEDRIVER", "/nonexistent/chromedriver")
    reason = missing_browser()  # the driver, or (on a machine without it) Chromium itself
    assert reason is not None and ("chromedriver" in reason or "Chromium" in reason)
