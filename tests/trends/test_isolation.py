"""One organization failing never stops the others: batch savepoints, then one-by-one retries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from opsmetrics.config import Settings
from opsmetrics.trends import daily
from tests.factories import job_runs as ledger
from tests.factories import org
from tests.trends import fixture as fx
from tests.trends.helpers import run_day, trend_rows


@pytest.fixture
def five_orgs(db: Engine) -> list[uuid.UUID]:
    """Five organizations; the n-th (1-based, in id order) has n 'billing' rows on D."""
    with db.begin() as conn:
        ids = sorted(org(conn, f"Org {i}") for i in range(5))
        fx.insert_classifications(
            conn,
            [
                fx.classification(o, topic="billing")
                for n, o in enumerate(ids, start=1)
                for _ in range(n)
            ],
        )
    return ids


@pytest.fixture
def failing_org(db: Engine) -> Iterator[list[uuid.UUID]]:
    """A trigger that makes writing the trend row of the listed organizations raise."""
    victims: list[uuid.UUID] = []
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE trend_test_victims (id uuid PRIMARY KEY)"))
        conn.execute(
            text(
                """
                CREATE FUNCTION trend_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM trend_test_victims WHERE id = NEW.organization_id)
                    THEN RAISE EXCEPTION 'organization % is broken', NEW.organization_id;
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER trend_test_fail BEFORE INSERT OR UPDATE ON communication_trends"
                " FOR EACH ROW EXECUTE FUNCTION trend_test_fail()"
            )
        )
    try:
        yield victims
    finally:
        with db.begin() as conn:
            conn.execute(text("DROP TRIGGER trend_test_fail ON communication_trends"))
            conn.execute(text("DROP FUNCTION trend_test_fail()"))
            conn.execute(text("DROP TABLE trend_test_victims"))


def _break(db: Engine, *org_ids: uuid.UUID) -> None:
    with db.begin() as conn:
        for o in org_ids:
            conn.execute(text("INSERT INTO trend_test_victims VALUES (:o)"), {"o": o})


def test_a_failing_organization_is_reported_and_the_others_are_written(
    monkeypatch: pytest.MonkeyPatch,
    db: Engine,
    settings: Settings,
    five_orgs: list[uuid.UUID],
    failing_org: list[uuid.UUID],
) -> None:
    monkeypatch.setattr(daily, "BATCH_SIZE", 2)  # batches [1,2] [3,4] [5]; 3 fails
    victim = five_orgs[2]
    _break(db, victim)

    summary = run_day(db, settings, fx.D)

    assert summary.status == "partial"
    rows = trend_rows(db)
    expected = {o: n for n, o in enumerate(five_orgs, start=1) if o != victim}
    assert {o: r["total_classifications"] for o, r in rows.items()} == expected
    assert summary.runs[0].result == {
        "organizations_processed": 5,
        "trends_created": 4,
        "errors": 1,
        "failed_organizations": [str(victim)],
    }
    [entry] = ledger(db)
    assert entry["status"] == "partial"
    # the cause, without naming the organization (tenants read job_runs through /jobs/runs)
    assert entry["error"] == (
        "1 of 5 organizations failed (their ids and errors are in the stats:"
        " failed_organizations, failure_errors)"
    )
    assert str(victim) not in entry["error"]
    stats = entry["stats"]
    assert stats["failed_organizations"] == [str(victim)]
    assert stats["batches"] == 3 and stats["batches_retried"] == 1
    assert stats["errors"] == 1
    assert f"organization {victim} is broken" in stats["failure_errors"][str(victim)]
    assert stats["failure_errors"][str(victim)].startswith("database error P0001: ")


def test_a_failing_organization_keeps_its_previous_row_and_the_cli_exits_1(
    monkeypatch: pytest.MonkeyPatch,
    db_env: Engine,
    settings: Settings,
    five_orgs: list[uuid.UUID],
    failing_org: list[uuid.UUID],
) -> None:
    from opsmetrics.cli import main

    assert run_day(db_env, settings, fx.D).status == "succeeded"
    before = trend_rows(db_env)
    # New data for every organization, then two of them break (default batch size: one batch).
    with db_env.begin() as conn:
        fx.insert_classifications(
            conn, [fx.classification(o, topic="praise", sentiment=fx.POS) for o in five_orgs]
        )
    _break(db_env, five_orgs[0], five_orgs[4])

    assert main(["run", "daily-trend-aggregation", "--date", str(fx.D)]) == 1

    after = trend_rows(db_env)
    for n, o in enumerate(five_orgs, start=1):
        if o in (five_orgs[0], five_orgs[4]):
            assert after[o] == before[o]  # untouched: old figures, old updated_at
        else:
            assert after[o]["topic_distribution"] == {"billing": n, "praise": 1}
            assert after[o]["total_classifications"] == n + 1
    last = ledger(db_env)[-1]
    assert last["status"] == "partial"
    assert sorted(last["stats"]["failed_organizations"]) == sorted(
        [str(five_orgs[0]), str(five_orgs[4])]
    )
    assert last["stats"]["trends_created"] == 3


def test_when_every_organization_fails_the_run_fails_and_stops_a_backfill(
    db: Engine, settings: Settings, five_orgs: list[uuid.UUID], failing_org: list[uuid.UUID]
) -> None:
    from datetime import timedelta

    from opsmetrics import runs

    _break(db, *five_orgs)
    summary = runs.run(
        "daily-trend-aggregation",
        [fx.D, fx.D + timedelta(days=1)],
        trigger="backfill",
        engine=db,
        settings=settings,
    )
    assert [r.status for r in summary.runs] == ["failed", "skipped"]
    error = summary.runs[0].error or ""
    assert error.startswith("AllOrganizationsFailed: all 5 organizations failed; first error:")
    assert "is broken" in error
    assert trend_rows(db) == {}
    assert [e["status"] for e in ledger(db)] == ["failed"]
