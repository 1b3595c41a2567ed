"""The run calendar in the browser: states and due/expected marks from a ledger built by hand
relative to today (the calendar is about today), and a date run from its button with the jobs:run
scope, through the real job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from opsmetrics.reports.auth import AuthConfig, mint_token
from tests.browser.chrome import Page
from tests.factories import org, record_run
from tests.http.doors import ServerDoor

JOB = "daily-trend-aggregation"


def _cell(page: Page, job: str, day: object) -> tuple[str | None, str]:
    cell = page.one(f'td[data-job="{job}"][data-date="{day}"]')
    return cell.get_attribute("data-state"), cell.text


def test_calendar_grid_marks_due_and_stale_and_runs_a_date(
    page: Page, server: ServerDoor, db_env: Engine, http_server: object
) -> None:
    today = datetime.now(UTC).date()
    with db_env.begin() as conn:
        acme = org(conn, "Acme Medics")
        # The trend job first ran 4 days ago, failed 3 days ago, missed 2 days ago, and has not
        # run for yesterday (its target): 3 and 2 days ago are due (later than its first date,
        # inside the 14-day horizon, no succeeded run), yesterday is expected and stale.
        record_run(conn, JOB, today - timedelta(days=4), finished_at=datetime.now(UTC))
        record_run(conn, JOB, today - timedelta(days=3), status="failed")
    page.sign_in(server.token(acme, ("jobs:read", "jobs:run")), "view=runs")
    assert page.text('[data-field="date"]').endswith(f"(today {today}, UTC)")
    assert page.text('[data-field="stale"]').startswith("Stale: daily-territory-metrics has not")
    d = [today - timedelta(days=n) for n in range(5)]
    assert _cell(page, JOB, d[4]) == ("succeeded", "succeeded")
    state, words = _cell(page, JOB, d[3])
    assert state == "failed" and words.startswith("failed\ndue")
    state, words = _cell(page, JOB, d[2])
    assert state == "due" and words.startswith("due")
    state, words = _cell(page, JOB, d[1])
    assert state == "missing" and "expected · stale" in words
    # The other jobs never ran: nothing is due for them (no first date), their target is stale.
    assert _cell(page, "daily-territory-metrics", d[2])[0] == "no-run"
    assert _cell(page, "daily-territory-metrics", d[1])[0] == "missing"
    assert page.card(JOB).splitlines() == [f"latest: {d[4]}", "due: 2", "running: 0"]
    # Run the missed date from its button: the real job runs for Acme, over HTTP.
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    page.one(f'td[data-job="{JOB}"][data-date="{d[2]}"] button[data-action="run"]').click()
    page.wait_drawn()
    assert page.text('[data-field="outcome"]') == (
        f"{JOB} for {d[2]}: succeeded ({d[2]} succeeded)"
    )
    assert _cell(page, JOB, d[2])[0] == "succeeded"
    assert page.card(JOB).splitlines()[1] == "due: 1"
    with db_env.connect() as conn:
        ran = conn.execute(
            text(
                "SELECT trigger, status, org_id FROM job_runs WHERE job = :j AND target_date = :d"
            ),
            {"j": JOB, "d": d[2]},
        ).one()
    assert tuple(ran) == ("http", "succeeded", acme)


def test_without_jobs_run_there_is_no_button(
    page: Page, server: ServerDoor, db_env: Engine, http_server: object
) -> None:
    today = datetime.now(UTC).date()
    with db_env.begin() as conn:
        acme = org(conn, "Acme Medics")
        record_run(conn, JOB, today - timedelta(days=3))
    page.sign_in(server.token(acme, ("jobs:read",)), "view=runs")
    assert page.all('[data-action="run"]') == [] and page.all('[data-action="catch-up"]') == []
    assert "needs a token with the jobs:run scope" in page.text("#view")
    # A token that may not read the ledger at all gets the API's 403, in words.
    page.sign_in(server.token(acme, ("reports:read",)), "view=runs")
    assert "jobs:read" in page.text("#view .note.error")


def test_a_run_refused_for_the_token_brings_back_the_sign_in(
    page: Page, server: ServerDoor, db_env: Engine, http_server: object
) -> None:
    today = datetime.now(UTC).date()
    with db_env.begin() as conn:
        acme = org(conn, "Acme Medics")
        record_run(conn, JOB, today - timedelta(days=3))
    page.sign_in(server.token(acme, ("jobs:read", "jobs:run")), "view=runs")
    # The key rotates under an open page: the next call is refused (401).
    forged = mint_token(
        org_id=acme,
        scopes=["jobs:read", "jobs:run"],
        ttl_s=300,
        config=AuthConfig(secret="a-rotated-key-the-server-no-longer-trusts"),
    )
    page.driver.execute_script(
        "sessionStorage.setItem('opsmetrics.access_token', arguments[0]);", forged
    )
    page.driver.execute_script("document.getElementById('view').removeAttribute('data-ready');")
    page.one(f'td[data-job="{JOB}"][data-date="{today - timedelta(days=2)}"] button').click()
    page.wait_drawn()
    assert not page.signed_in()
    assert "refused the token" in page.text("#sign-in-reason")
    with db_env.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM job_runs")).scalar_one() == 1
