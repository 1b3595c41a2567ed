"""Who sees what, and what the page refuses: another organization's token sees only its own
figures, an expired or refused token brings the sign-in back, hostile names render as text, and
the page runs under its Content-Security-Policy without a single violation."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from opsmetrics.reports.auth import AuthConfig, mint_token
from tests.browser.chrome import Page
from tests.factories import insert_rows, org, record_run
from tests.http.doors import ServerDoor
from tests.http.world import D, World

HOSTILE_REGION = "<img src=x onerror=alert(1)>"
HOSTILE_CHANNEL = "<script>alert(2)</script>"


def test_a_second_organization_sees_only_its_own(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_b, ("reports:read",)), "view=territories")
    # B at D: SW1A 1 (10 bookings, 40% rejected) and B15 2 (none).
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == ["B15 2", "SW1A 1"]
    assert page.card("total") == "2"
    assert page.card("total_bookings") == "10"
    assert page.card("average_rejection_rate") == "40.00%"
    assert "EC1V 9" not in page.text("#view")  # A's sector
    page.show("view=trends")
    assert page.card("total_classifications") == "7"
    assert page.card("top_topic") == "praise"
    assert "C0A1" not in page.text("#view")  # A's hotspot channel


def test_an_expired_token_shows_the_sign_in_again(
    page: Page, server: ServerDoor, world: World
) -> None:
    expired = mint_token(
        org_id=world.org_a,
        scopes=["reports:read"],
        ttl_s=60,
        config=server.config,
        now=time.time() - 3600,
    )
    page.sign_in(expired, "view=territories")
    assert not page.signed_in()
    assert page.text("#sign-in-reason") == "Your token has expired: sign in again."
    assert page.driver.execute_script("return sessionStorage.length;") == 0
    # Pasting a good token signs in, on the view the link named.
    page.one("#token-input").send_keys(server.token(world.org_a, ("reports:read",)))
    page.one("#sign-in-form button").click()
    page.wait_drawn()
    assert page.signed_in() and page.card("total") == "4"


def test_a_token_the_server_refuses_shows_the_sign_in_again(page: Page, world: World) -> None:
    # Not expired by its own claim, but signed with a key the server does not trust: a 401.
    forged = mint_token(
        org_id=world.org_a,
        scopes=["reports:read"],
        ttl_s=300,
        config=AuthConfig(secret="another-key-the-server-never-heard-of-32b"),
    )
    page.sign_in(forged, "view=hiring")
    assert not page.signed_in()
    assert "refused the token" in page.text("#sign-in-reason")
    assert page.driver.execute_script("return sessionStorage.length;") == 0


def test_hostile_names_render_as_text(
    page: Page, server: ServerDoor, db_env: Engine, http_server: object
) -> None:
    day = D
    with db_env.begin() as conn:
        evil = org(conn, "Evil Corp")
        territory = uuid.uuid4()
        insert_rows(
            conn,
            "territories",
            [
                {
                    "id": territory,
                    "org_id": evil,
                    "postcode_sector": "E1 6",
                    "region": HOSTILE_REGION,
                    "primary_medic_id": None,
                    "secondary_medic_id": None,
                }
            ],
        )
        insert_rows(
            conn,
            "territory_metrics",
            [
                {
                    "territory_id": territory,
                    "org_id": evil,
                    "postcode_sector": "E1 6",
                    "metric_date": day,
                    "total_bookings": 10,
                    "confirmed_bookings": 5,
                    "rejected_bookings": 5,
                    "rejection_rate": Decimal("50.00"),
                    "fulfillment_rate": Decimal("50.00"),
                    "primary_medic_utilization": Decimal("100.00"),
                    "hiring_trigger_weeks": 3,
                    "coverage_gap_weeks": 1,
                    "computed_at": datetime.now(UTC),
                }
            ],
        )
        now = datetime.now(UTC)
        insert_rows(
            conn,
            "communication_trends",
            [
                {
                    "organization_id": evil,
                    "trend_date": day,
                    "trend_period": "daily",
                    "topic_distribution": {HOSTILE_CHANNEL: 10},
                    "sentiment_distribution": {},
                    "escalation_counts": {},
                    "total_classifications": 10,
                    "avg_confidence": None,
                    "channel_hotspots": [
                        {"channelId": HOSTILE_CHANNEL, "riskScore": 90, "messageCount": 10}
                    ],
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        for job in ("daily-territory-metrics", "weekly-hiring-triggers", "daily-trend-aggregation"):
            record_run(conn, job, day)
    page.sign_in(server.token(evil, ("reports:read",)), "view=territories")
    assert page.cells('tr[data-sector="E1 6"]')[1] == HOSTILE_REGION
    page.show("view=hiring")
    assert page.texts('[data-chart="by-region"] .chart-row dt') == [HOSTILE_REGION]
    page.show("view=gaps")
    assert page.cells('tr[data-sector="E1 6"]')[2] == HOSTILE_REGION
    page.show(f"view=trends&from={day}&to={day}")
    assert page.cells("tbody tr")[1] == HOSTILE_CHANNEL
    assert HOSTILE_CHANNEL in page.text('[data-chart="topics"]')
    # Nothing the names spelled became markup, and nothing ran.
    assert page.all("#view img") == [] and page.all("#view script") == []
    assert page.driver.execute_script("return document.scripts.length;") == 1  # main.js only
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = page.driver.switch_to.alert.text
    except NoAlertPresentException:
        alert = None
    assert alert is None
    assert page.console_errors() == []


def test_the_page_is_served_with_its_policy_and_no_inline_script(
    page: Page, server: ServerDoor, world: World
) -> None:
    answer = server.raw("GET", "/", {})
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in answer.body  # the only script is a file of this origin
    # The policy is in force: a script injected inline is refused, and the browser says so.
    page.sign_in(server.token(world.org_a, ("reports:read",)), "view=territories")
    ran = page.driver.execute_script(
        "window.__inline = false;"
        " const s = document.createElement('script');"
        " s.textContent = 'window.__inline = true;';"
        " document.head.append(s);"
        " return window.__inline;"
    )
    assert ran is False
    # The browser reports the refusal on its console (read until it arrives).
    deadline = time.monotonic() + 10
    seen: list[str] = []
    while not any("Content Security Policy" in m for m in seen) and time.monotonic() < deadline:
        seen += page.console_errors()
        time.sleep(0.1)
    assert any("Content Security Policy" in m for m in seen), seen


def test_keyboard_alone_reaches_every_view(page: Page, server: ServerDoor, world: World) -> None:
    from selenium.webdriver.common.keys import Keys

    page.sign_in(server.token(world.org_a, ("reports:read",)), "view=territories")
    from selenium.webdriver.common.action_chains import ActionChains

    # From the top of the document, Tab by Tab as a keyboard user moves.
    page.driver.execute_script("document.activeElement && document.activeElement.blur();")
    seen = []
    for _ in range(12):
        ActionChains(page.driver).send_keys(Keys.TAB).perform()
        focused = page.driver.switch_to.active_element
        if focused.tag_name == "a" and focused.get_attribute("data-view"):
            seen.append(focused.get_attribute("data-view"))
    assert seen[:5] == ["territories", "hiring", "gaps", "trends", "runs"]
    # Enter on a focused link opens its view, and the view's heading takes the focus.
    link = page.one('nav a[data-view="gaps"]')
    page.driver.execute_script("arguments[0].focus();", link)
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    ActionChains(page.driver).send_keys(Keys.ENTER).perform()
    page.wait_drawn()
    assert page.text("#view h1") == "Coverage gaps"
    assert link.get_attribute("aria-current") == "page"
