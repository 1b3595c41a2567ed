"""What the issue calls done: a person runs the demo, follows the link it prints, and sees each
view with the demo's numbers. `opsmetrics demo --serve` on the embedded PostgreSQL, its printed
link opened in Chromium, and `opsmetrics token --open`'s link and scopes."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Engine

from opsmetrics.cli import main
from tests import factories
from tests.browser.chrome import Page
from tests.http.doors import TEST_SECRET, RunningServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def _link_from(process: subprocess.Popen[str], log: list[str], timeout_s: float) -> str:
    """Read the demo's output until the line holding the signed-in link."""
    assert process.stdout is not None
    watch = selectors.DefaultSelector()
    watch.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not watch.select(timeout=1):
            continue
        line = process.stdout.readline()
        if not line:
            break
        log.append(line)
        if "#access_token=" in line:
            return line.strip()
    raise AssertionError("the demo printed no link:\n" + "".join(log[-40:]))


@pytest.fixture
def demo_link() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        # The test suite's embedded data folder (as tests/foundation/test_demo.py), so the run
        # reuses one embedded server.
        "OPSMETRICS_DATA_DIR": str(ROOT / ".opsmetrics" / "test-data"),
        "OPSMETRICS_JWT_SECRET": TEST_SECRET,
        "BROWSER": "true",  # webbrowser "opens" the link with /bin/true: nothing pops up
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "opsmetrics.cli", "demo", "--serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = RunningServer(process, f"http://127.0.0.1:{port}", Path(os.devnull))  # type: ignore[arg-type]
    log: list[str] = []
    try:
        link = _link_from(process, log, timeout_s=240)
        assert link.startswith(f"http://127.0.0.1:{port}/#access_token=")
        yield link
    finally:
        running.stop()


@pytest.mark.slow
def test_the_demo_prints_a_link_that_shows_each_view(chrome: object, demo_link: str) -> None:
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(chrome, WebDriver)
    page = Page(chrome, demo_link.split("/#", 1)[0])
    # The server may still be starting its workers when the link is printed.
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(page.base_url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    page.reset()
    chrome.get("about:blank")
    chrome.get(demo_link)
    page.wait_drawn()
    assert page.signed_in()
    # The seed's demo scale: Capital Event Medics has 200 territories in London and the South
    # East (opsmetrics/seed/scales.py).
    assert page.card("total") == "200"
    assert set(page.texts("tbody tr td:nth-child(2)")) <= {"London", "South East"}
    assert "Stale" not in page.text("#view")  # the demo computed yesterday
    page.show("view=hiring")
    assert int(page.card("critical")) > 0  # the seed overloads some territories for 3+ weeks
    page.show("view=gaps")
    assert page.all("#view .note.error") == []
    page.show("view=trends")
    assert page.card("days_with_data") == "7 of 7"  # the demo aggregates a week of trends
    page.show("view=runs")
    assert page.all('td[data-state="succeeded"]')  # the demo's runs, in the grid
    assert page.console_errors() == []
    page.reset()


def test_token_open_prints_the_dashboard_link_with_its_scopes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_env: Engine
) -> None:
    opened: list[str] = []
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", TEST_SECRET)

    def fake_open(url: str, new: int = 0) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    with db_env.begin() as conn:
        org = factories.org(conn, "Dashboard Medics")  # token refuses unknown organizations
    assert main(["token", "--org", str(org), "--open", "--port", "8123"]) == 0
    out, err = capsys.readouterr()
    link = out.strip()
    assert link.startswith("http://127.0.0.1:8123/#access_token=")
    assert opened == [link]
    assert "opened the dashboard" in err
    claims = jwt.decode(link.split("=", 1)[1], TEST_SECRET, algorithms=["HS256"])
    assert claims["org_id"] == str(org)
    assert claims["scope"] == "reports:read reports:refresh jobs:read jobs:run"
    # --scope still decides; no browser at hand: only printed.
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: False)
    assert main(["token", "--org", str(org), "--open", "--scope", "reports:read"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("http://127.0.0.1:8080/#access_token=") and err == ""
    claims = jwt.decode(out.strip().split("=", 1)[1], TEST_SECRET, algorithms=["HS256"])
    assert claims["scope"] == "reports:read"
