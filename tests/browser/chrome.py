"""Debian's headless Chromium driven through its chromedriver (selenium), and the helpers the
browser tests share: open a view, wait until it is drawn, read its text, save a screenshot.

Where no browser is installed the tests skip with the reason (`apt-get install chromium
chromium-driver`, as .ci/run does).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parents[2]
# Where each run leaves its screenshots (a test artifact; git ignores .opsmetrics/).
ARTIFACTS = Path(os.environ.get("OPSMETRICS_SCREENSHOTS", ROOT / ".opsmetrics" / "screenshots"))
WAIT_S = 20


def _binary(env: str, *names: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given if Path(given).exists() else None
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if _binary("OPSMETRICS_CHROMIUM", "chromium", "chromium-browser") is None:
        return "no Chromium: apt-get install chromium chromium-driver (or OPSMETRICS_CHROMIUM=path)"
    if _binary("OPSMETRICS_CHROMEDRIVER", "chromedriver") is None:
        return (
            "no chromedriver here: apt-get install chromium-driver (or set OPSMETRICS_CHROMEDRIVER)"
        )
    return None


def start_chrome(width: int = 1280, height: int = 900) -> WebDriver:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _binary("OPSMETRICS_CHROMIUM", "chromium", "chromium-browser") or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=_binary("OPSMETRICS_CHROMEDRIVER", "chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT_S)
    return driver


@dataclass
class Page:
    """The dashboard in one browser tab, served at `base_url`."""

    driver: WebDriver
    base_url: str

    def sign_in(self, token: str, fragment: str = "view=territories") -> None:
        """Open the page the way `opsmetrics token --open` links to it: the token in the
        fragment, then the view's own state."""
        self.driver.get("about:blank")  # a fresh load, as from a link in a terminal
        self.driver.get(f"{self.base_url}/#access_token={token}&{fragment}")
        self.wait_drawn()

    def reset(self) -> None:
        """A fresh start: this origin's sessionStorage emptied, no page left open.

        The storage is emptied from a JSON route of the origin, not from the dashboard: the page
        would start loading a view with the old token, and its late answer would land in the
        next test."""
        self.driver.get(f"{self.base_url}/health")
        self.driver.execute_script("sessionStorage.clear();")
        self.driver.get("about:blank")

    def show(self, fragment: str) -> None:
        """Another view or state by changing the fragment, as a link or the back button would."""
        self.driver.execute_script(
            "document.getElementById('view').removeAttribute('data-ready');"
            " location.hash = arguments[0];",
            fragment,
        )
        self.wait_drawn()

    def wait_drawn(self) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        def drawn(driver: WebDriver) -> bool:
            ready: bool = driver.execute_script(
                "const v = document.getElementById('view');"
                " const s = document.getElementById('sign-in');"
                " return (v && v.dataset.ready === 'true') || (s && !s.hidden);"
            )
            return ready

        WebDriverWait(self.driver, WAIT_S).until(drawn)

    def one(self, css: str) -> WebElement:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.one(css).text

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.all(css)]

    def card(self, name: str) -> str:
        """A summary card's value."""
        return self.text(f'[data-card="{name}"] dd')

    def cells(self, row_css: str) -> list[str]:
        """The cells of one table row, as text."""
        return [c.text for c in self.all(f"{row_css} td")]

    def signed_in(self) -> bool:
        return not self.driver.execute_script(
            "return document.getElementById('sign-in').hidden === false;"
        )

    def console_errors(self) -> list[str]:
        """Severe console messages since the last call (a CSP violation is one)."""
        # /favicon.ico is asked for by Chromium on the JSON page `reset` uses, never by the
        # dashboard (which names its icon): not the page's error.
        return [
            str(entry["message"])
            for entry in self.driver.get_log("browser")  # type: ignore[attr-defined]  # Chrome has it; the base class does not say
            if entry.get("level") == "SEVERE" and "/favicon.ico " not in str(entry["message"])
        ]

    def screenshot(self, name: str, folder: Path = ARTIFACTS) -> Path:
        """The whole page (the window made as tall as the document), as a PNG."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        width = self.driver.get_window_size()["width"]
        height = self.driver.execute_script(
            "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);"
        )
        original = self.driver.get_window_size()["height"]
        self.driver.set_window_size(width, min(int(height) + 120, 4000))
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(width, original)
        return path
