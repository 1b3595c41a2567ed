"""Fixtures for the browser tests: one headless Chromium per session, `opsmetrics serve` on the
test database (tests/http's server), and the hand-made world of tests/http/world.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.chrome import Page, missing_browser, start_chrome
from tests.http.conftest import http_server, world
from tests.http.doors import RunningServer, ServerDoor

__all__ = ["http_server", "world"]


@pytest.fixture(scope="session")
def chrome() -> Iterator[object]:
    reason = missing_browser()
    if reason is not None:
        pytest.skip(f"browser tests need Debian's chromium and chromium-driver: {reason}")
    driver = start_chrome()
    yield driver
    driver.quit()


@pytest.fixture
def page(chrome: object, http_server: RunningServer) -> Iterator[Page]:
    """The dashboard in a tab with nothing signed in."""
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(chrome, WebDriver)
    tab = Page(chrome, http_server.base_url)
    tab.reset()
    tab.console_errors()  # start each test with an empty console
    yield tab
    tab.reset()


@pytest.fixture
def server(http_server: RunningServer) -> ServerDoor:
    """Mints tokens the server accepts (the test key)."""
    return ServerDoor(http_server.base_url)
