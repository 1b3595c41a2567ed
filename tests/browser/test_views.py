"""Each view of the dashboard in a real headless Chromium against `opsmetrics serve`, on the
hand-made world of tests/http/world.py (figures worked out by hand there and below), checked as
the text a person reads."""

from __future__ import annotations

from tests.browser.chrome import Page
from tests.http.doors import ServerDoor
from tests.http.world import D, World

DASHBOARD = ("reports:read", "jobs:read")
DASH = "\u2013"  # what the page shows for no value, and between the ends of a range


def test_sign_in_by_fragment_keeps_the_token_out_of_the_address(
    page: Page, server: ServerDoor, world: World
) -> None:
    token = server.token(world.org_a, DASHBOARD)
    page.sign_in(token, "view=territories")
    assert page.signed_in()
    # The token went to sessionStorage and left the address bar (a shared link never holds it).
    url = page.driver.current_url
    assert "access_token" not in url and token not in url
    assert url.endswith("#view=territories")
    stored = page.driver.execute_script("return sessionStorage.getItem('opsmetrics.access_token');")
    assert stored == token
    assert page.driver.get_cookies() == []
    assert page.console_errors() == []  # no CSP violation, no failed script


def test_territories_cards_table_and_bars(page: Page, server: ServerDoor, world: World) -> None:
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=territories")
    assert page.text('[data-field="date"]') == f"Date: {D}"
    assert page.text('[data-field="as-of"]') == "As of: 2026-11-23 03:00:12 UTC"
    # The world's runs are long past: the daily job has not computed yesterday.
    assert page.text('[data-field="stale"]').startswith("Stale: daily-territory-metrics")
    assert page.card("total") == "4"
    assert page.card("assigned") == "3"
    assert page.card("unassigned") == "1"
    assert page.card("average_utilization") == "55.00%"  # (100 + 100 + 20 + 0) / 4
    assert page.card("total_bookings") == "36"  # 20 + 12 + 4 + 0
    assert page.card("average_rejection_rate") == "32.78%"  # (15 + 33.33 + 50) / 3
    sectors = [e.get_attribute("data-sector") for e in page.all("tbody tr")]
    assert sectors == ["EC1V 9", "M1 4", "M2 1", "SW1A 1"]
    assert page.cells('tr[data-sector="EC1V 9"]') == [
        "EC1V 9",
        "London",
        "12",
        "8",
        "4",
        "33.33%",
        "66.67%",
        "100.00%",
        "yes",
        "no",
        "1",
        "1",
    ]
    assert page.cells('tr[data-sector="M2 1"]')[5:8] == [DASH, DASH, "0.00%"]  # no bookings
    # The utilization bar is drawn to the figure: 20% of the track for M1 4.
    bar = page.one('tr[data-sector="M1 4"] svg.meter')
    assert bar.get_attribute("aria-label") == "utilization 20.00%"
    fill = page.one('tr[data-sector="M1 4"] svg.meter .meter-fill')
    assert fill.get_attribute("width") == "20.00"
    # Above the overload threshold (/assets/rules.js, from territory/rules.py) the bar is "high";
    # the weeks column is named after the same threshold.
    assert "Weeks >80%" in page.texts("th")
    assert "high" not in (bar.get_attribute("class") or "")
    hot = page.one('tr[data-sector="SW1A 1"] svg.meter')  # the overloaded one (3 weeks above 80)
    assert "high" in (hot.get_attribute("class") or "").split()


def test_territories_filter_by_region_and_pages_by_cursor(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=territories")
    # The filter form, as a person uses it: type a region, press Apply.
    field = page.one("#f-region")
    field.send_keys("North West")
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    page.one("form.filters button[type=submit]").click()
    page.wait_drawn()
    assert "region=North+West" in page.driver.current_url
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == ["M1 4", "M2 1"]
    assert page.card("total") == "2"
    assert page.card("average_utilization") == "10.00%"  # (20 + 0) / 2
    assert page.card("average_rejection_rate") == "50.00%"  # only M1 4 had bookings
    # Pages of 3: the cursor's page 2 holds the fourth territory.
    page.show("view=territories&limit=3")
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == [
        "EC1V 9",
        "M1 4",
        "M2 1",
    ]
    assert page.text('[data-field="page"]') == f"Page 1: territories 1{DASH}3 of 4"
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    page.one('[data-action="next-page"]').click()
    page.wait_drawn()
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == ["SW1A 1"]
    assert page.text('[data-field="page"]') == f"Page 2: territories 4{DASH}4 of 4"
    assert page.all('[data-action="next-page"]') == []
    # The page's state is in the fragment, date pinned: the link can be shared.
    assert f"date={D}" in page.driver.current_url and "cursor=" in page.driver.current_url


def test_hiring_triggers_counts_regions_and_most_urgent_first(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=hiring")
    assert page.text('[data-field="date"]') == f"Date: {D}"
    assert page.text('[data-field="as-of"]') == "As of: 2026-11-23 04:00:12 UTC"
    # A at D: SW1A 1 high utilization 3 weeks (critical), fulfillment 85% of 20 (critical),
    # rejection 15% (warning); EC1V 9 utilization 100% in its first week (warning),
    # fulfillment 66.67% of 12 (critical), rejection 33.33% (critical); M1 4 and M2 1 have fewer
    # than 10 bookings and utilization under 70%: none.
    assert (page.card("critical"), page.card("warning"), page.card("info")) == ("4", "2", "0")
    assert page.card("total") == "6"
    assert page.texts('[data-chart="by-region"] .chart-row dt') == ["London"]
    assert page.text('[data-region="London"] .chart-text') == "6: 4 critical, 2 warning, 0 info"
    bar = page.one('[data-region="London"] svg.stacked')
    parts = {
        r.get_attribute("data-part"): r.get_attribute("width")
        for r in bar.find_elements("css selector", "rect[data-part]")
    }
    assert parts == {"critical": "66.667", "warning": "33.333"}  # 4 and 2 of the widest, 6
    severities = page.texts("tbody tr td:first-child")
    assert severities == ["critical"] * 4 + ["warning"] * 2
    # Most urgent first: severity, then weeks active, then distance past the threshold; of the
    # four critical ones only SW1A 1's high utilization has lasted (3 weeks).
    first = page.cells("tbody tr:first-child")
    assert first[1:4] == ["high utilization", "SW1A 1", "London"]
    assert first[5:] == ["100.00%", "80.00%", "3"]


def test_coverage_gaps_sorted_with_action_and_low_volume_note(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=gaps")
    assert (page.card("critical"), page.card("warning"), page.card("total")) == ("1", "1", "2")
    assert page.card("low_volume") == "1"  # M1 4: 4 bookings, 50% rejected, left out
    assert page.cells('tr[data-sector="EC1V 9"]') == [
        "critical",
        "EC1V 9",
        "London",
        "33.33%",
        "12",
        "4",
        "1",
        "Assign secondary medic",
        "",
    ]
    assert page.cells('tr[data-sector="SW1A 1"]') == [
        "warning",
        "SW1A 1",
        "London",
        "15.00%",
        "20",
        "3",
        "2",
        "Consider hiring additional medic",
        "",
    ]
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == ["EC1V 9", "SW1A 1"]
    # the checkbox names the volume rule as territory/rules.py words it (/assets/rules.js)
    assert "Include fewer than 10 bookings" in page.texts(".field-checkbox label")
    page.show("view=gaps&low_volume=true")
    assert [e.get_attribute("data-sector") for e in page.all("tbody tr")] == [
        "M1 4",  # critical, 50%: critical first, then by rejection rate
        "EC1V 9",
        "SW1A 1",
    ]
    assert page.cells('tr[data-sector="M1 4"]')[-2:] == [
        "Assign primary medic",
        "Only 4 bookings - monitor before acting",
    ]
    assert page.card("total") == "3"


def test_trends_stacked_bars_escalations_and_hotspots(
    page: Page, server: ServerDoor, world: World
) -> None:
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=trends")
    # No range asked: the 7 days up to the latest computed day, D.
    assert page.text('[data-field="date"]') == "Date: 2026-11-16 to 2026-11-22"
    assert page.card("total_classifications") == "13"  # 3 + 10
    assert page.card("escalations") == "4"  # low 1 on D-1; high 2, low 1 on D
    assert page.card("hotspots") == "1"
    assert page.card("top_topic") == "complaint"
    assert page.card("negative_share_pct") == "38.46%"  # 5 of 13
    assert page.card("days_with_data") == "2 of 7"
    topics = '[data-chart="topics"]'
    assert page.text(f'{topics} [data-date="2026-11-21"] .chart-text') == "3: scheduling 3"
    assert (
        page.text(f'{topics} [data-date="2026-11-22"] .chart-text') == "10: complaint 6, billing 4"
    )
    sentiment = '[data-chart="sentiment"]'
    # Parts in the range's order, most frequent first: neutral 6, negative 5, positive 2.
    assert (
        page.text(f'{sentiment} [data-date="2026-11-22"] .chart-text')
        == "10: neutral 3, negative 5, positive 2"
    )
    assert page.text('[data-chart="escalations"] [data-severity="high"] .chart-text') == "2"
    assert page.text('[data-chart="escalations"] [data-severity="low"] .chart-text') == "2"
    assert page.cells('tr[data-channel="C0A1"]') == ["2026-11-22", "C0A1", "60", "10"]
    # A chosen range: D alone.
    page.show(f"view=trends&from={D}&to={D}")
    assert page.text('[data-field="date"]') == f"Date: {D} to {D}"
    assert page.card("total_classifications") == "10"
    assert page.texts(f"{topics} .chart-row dt") == [str(D)]


def test_a_bad_request_shows_the_apis_message_and_a_way_back(
    page: Page, server: ServerDoor, world: World
) -> None:
    # 2026-11-23 is a Monday; the weekly reports take a week-ending Sunday.
    page.sign_in(server.token(world.org_a, DASHBOARD), "view=hiring&date=2026-11-23")
    message = page.text("#view .note.error")
    assert message.startswith("date must be a week-ending Sunday for hiring-triggers")
    assert "2026-11-22" in message  # the API names the Sunday before
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    page.driver.find_element("link text", "Back to the latest figures").click()
    page.wait_drawn()
    assert page.card("total") == "6"
