"""A screenshot of each view, saved as a test artifact (.opsmetrics/screenshots/, or
$OPSMETRICS_SCREENSHOTS); the page on a phone's width and in print.

With OPSMETRICS_DOCS_SCREENSHOTS=1 the last test also loads the demo's data (the seed's demo
scale, the demo's job runs) and writes the README's pictures to docs/screenshots/: they are
made by this test, never drawn by hand.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from opsmetrics.config import Settings
from tests.browser.chrome import Page
from tests.http.doors import ServerDoor
from tests.http.world import World

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = ("reports:read", "jobs:read", "jobs:run")
PNG = b"\x89PNG\r\n\x1a\n"
# The world's runs are on fixed dates: show the calendar around them.
WORLD_FRAGMENTS = {
    "territories": "view=territories",
    "hiring": "view=hiring",
    "gaps": "view=gaps&low_volume=true",
    "trends": "view=trends",
    "runs": "view=runs&from=2026-11-09&to=2026-11-29",
}


def _shoot_each(page: Page, token: str, fragments: dict[str, str], prefix: str, **kw: Path) -> None:
    page.sign_in(token, "view=territories")
    for name, fragment in fragments.items():
        if fragment != "view=territories":
            page.show(fragment)
        assert page.one("#view").get_attribute("data-view") == name
        assert page.all("#view .note.error") == [], page.text("#view")
        shot = page.screenshot(f"{prefix}{name}", **kw)
        assert shot.read_bytes()[:8] == PNG and shot.stat().st_size > 5_000


def test_a_screenshot_of_each_view(page: Page, server: ServerDoor, world: World) -> None:
    _shoot_each(page, server.token(world.org_a, EVERYTHING), WORLD_FRAGMENTS, "")
    assert page.console_errors() == []


def test_on_a_phone_nothing_spills_sideways(page: Page, server: ServerDoor, world: World) -> None:
    size = page.driver.get_window_size()
    page.driver.set_window_size(390, 844)
    try:
        page.sign_in(server.token(world.org_a, EVERYTHING), "view=territories")
        for name, fragment in WORLD_FRAGMENTS.items():
            if fragment != "view=territories":
                page.show(fragment)
            # Wide tables scroll inside their own box; the page itself never scrolls sideways.
            width = page.driver.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth];"
            )
            assert width[0] <= width[1], (name, width)
            page.screenshot(f"phone-{name}")
    finally:
        page.driver.set_window_size(size["width"], size["height"])


def test_printed_the_view_keeps_its_figures_and_drops_the_controls(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_a, EVERYTHING), "view=hiring")
    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = page.driver.execute_script(
            "const d = (q) => getComputedStyle(document.querySelector(q)).display;"
            " return [d('header.top'), d('form.filters'), d('#view table'), d('.cards')];"
        )
        assert shown == ["none", "none", "table", "grid"]
    finally:
        page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(page.driver.print_page())
    assert pdf[:5] == b"%PDF-"
    out = Path(page.screenshot("print-hiring")).with_suffix(".pdf")
    out.write_bytes(pdf)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("OPSMETRICS_DOCS_SCREENSHOTS") != "1",
    reason="writes docs/screenshots/ only when OPSMETRICS_DOCS_SCREENSHOTS=1",
)
def test_readme_screenshots_of_the_demo(
    page: Page, server: ServerDoor, db_env: Engine, settings: Settings
) -> None:
    from opsmetrics import runs, seed
    from opsmetrics.dates import latest_sunday_before
    from opsmetrics.demo import DASHBOARD_ORG, TREND_DAYS, WEEKS

    # The demo's steps (opsmetrics/demo.py) on the test database.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    last_sunday = latest_sunday_before(yesterday + timedelta(days=1))
    sundays = [last_sunday - timedelta(weeks=w) for w in reversed(range(WEEKS))]
    seed.load(db_env, scale="demo", seed=7, anchor=yesterday, reset=True)
    for job, dates in (
        ("weekly-hiring-triggers", sundays),
        ("daily-territory-metrics", [yesterday]),
        (
            "daily-trend-aggregation",
            [yesterday - timedelta(days=n) for n in range(TREND_DAYS)][::-1],
        ),
    ):
        assert runs.run(job, dates, trigger="backfill", engine=db_env, settings=settings).ok
    with db_env.connect() as conn:
        org = conn.execute(
            text("SELECT id FROM organizations WHERE name = :n"), {"n": DASHBOARD_ORG}
        ).scalar_one()
    fragments = {
        "territories": "view=territories&limit=12",
        "hiring": "view=hiring&limit=12",
        "gaps": "view=gaps&limit=12",
        "trends": "view=trends",
        "runs": "view=runs",
    }
    _shoot_each(
        page, server.token(org, EVERYTHING), fragments, "", folder=ROOT / "docs" / "screenshots"
    )
