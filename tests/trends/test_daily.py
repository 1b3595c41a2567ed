"""daily-trend-aggregation against PostgreSQL on the hand-computed day of fixture.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, create_engine, text

from opsmetrics import db as dbmod
from opsmetrics.config import Settings
from tests.factories import job_runs as ledger
from tests.trends import fixture as fx
from tests.trends.helpers import figures, run_day, trend_rows


@pytest.fixture
def orgs(db: Engine) -> fx.Orgs:
    with db.begin() as conn:
        return fx.load_day(conn)


def test_every_figure_of_the_day_matches_the_hand_computed_fixture(
    orgs: fx.Orgs, db: Engine, settings: Settings
) -> None:
    summary = run_day(db, settings, fx.D)
    assert summary.status == "succeeded"

    rows = trend_rows(db)
    assert set(rows) == set(orgs.all())  # one row per organization, quiet ones included
    busy = rows[orgs.busy]
    assert (busy["trend_date"], busy["trend_period"]) == (fx.D, "daily")
    assert busy["topic_distribution"] == fx.BUSY_TOPICS
    assert busy["sentiment_distribution"] == fx.BUSY_SENTIMENT
    assert busy["escalation_counts"] == fx.BUSY_ALERTS
    assert busy["channel_hotspots"] == fx.BUSY_HOTSPOTS  # order included
    assert busy["total_classifications"] == fx.BUSY_TOTAL
    assert busy["avg_confidence"] == pytest.approx(fx.BUSY_AVG_CONFIDENCE, rel=1e-12)

    assert figures(rows[orgs.small]) == fx.SMALL_ROW
    assert figures(rows[orgs.quiet]) == fx.EMPTY_ROW  # activity only on D-1 / D+1
    assert figures(rows[orgs.alerts]) == fx.ALERTS_ROW

    # The run's answer and its ledger entry.
    [run] = summary.runs
    assert run.result == {
        "organizations_processed": 4,
        "trends_created": 4,
        "errors": 0,
        "failed_organizations": [],
    }
    [entry] = ledger(db)
    assert (entry["job"], entry["target_date"], entry["status"]) == (
        "daily-trend-aggregation",
        fx.D,
        "succeeded",
    )
    stats = entry["stats"]
    assert stats["malformed_sentiment"] == fx.BUSY_MALFORMED == 13
    assert stats["bad_rows"] == 13
    assert stats["classifications"] == fx.BUSY_TOTAL + 3  # busy 341 + small 3
    assert stats["escalation_alerts"] == 4 + 1  # busy 4 + alerts 1
    assert stats["quiet_organizations"] == 2  # quiet and alerts classified nothing on D
    assert stats["hotspots"] == len(fx.BUSY_HOTSPOTS) == 8
    assert (stats["organizations_processed"], stats["trends_created"], stats["errors"]) == (
        4,
        4,
        0,
    )
    assert stats["trends_replaced"] == 0
    assert isinstance(stats["duration_ms"], int)
    assert "failed_organizations" in stats and stats["failed_organizations"] == []


def test_created_and_updated_at_are_set_and_the_json_is_ordered_as_the_contract_says(
    orgs: fx.Orgs, db: Engine, settings: Settings
) -> None:
    run_day(db, settings, fx.D)
    with db.connect() as conn:
        hotspots_text = conn.execute(
            text(
                "SELECT channel_hotspots::text FROM communication_trends WHERE organization_id = :o"
            ),
            {"o": orgs.busy},
        ).scalar_one()
        stamps = conn.execute(
            text(
                "SELECT count(*) FROM communication_trends"
                " WHERE created_at IS NOT NULL AND updated_at = created_at"
            )
        ).scalar_one()
    # jsonb keeps exactly the three contract keys per hotspot, highest risk first.
    assert hotspots_text.startswith(
        '[{"channelId": "CALL", "riskScore": 100, "messageCount": 11}, {"channelId": "CTIE2"'
    )
    assert stamps == 4


def test_the_session_time_zone_does_not_move_the_day(
    orgs: fx.Orgs, db: Engine, settings: Settings, database_url: str
) -> None:
    """In a UTC+14 session a date(created_at) would put noon-UTC rows on D+1; the job must not."""
    url, _ = dbmod.normalize_url(database_url)
    far_east = create_engine(
        url, connect_args={"startup_params": {"TimeZone": "Pacific/Kiritimati"}}
    )
    try:
        with far_east.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == "Pacific/Kiritimati"
        assert run_day(far_east, settings, fx.D).status == "succeeded"
    finally:
        far_east.dispose()
    busy = trend_rows(db)[orgs.busy]
    assert busy["total_classifications"] == fx.BUSY_TOTAL
    assert busy["channel_hotspots"] == fx.BUSY_HOTSPOTS
    assert busy["escalation_counts"] == fx.BUSY_ALERTS


def test_rerun_leaves_the_same_rows_and_keeps_created_at(
    orgs: fx.Orgs, db: Engine, settings: Settings
) -> None:
    run_day(db, settings, fx.D)
    first = trend_rows(db)
    second_run = run_day(db, settings, fx.D)
    second = trend_rows(db)

    assert set(second) == set(first)
    for org_id, row in second.items():
        assert figures(row) == figures(first[org_id])
        assert row["created_at"] == first[org_id]["created_at"]
        assert row["updated_at"] > first[org_id]["updated_at"]
    stats = second_run.runs[0].stats
    assert (stats["trends_created"], stats["trends_replaced"]) == (4, 4)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM communication_trends")).scalar_one() == 4
    assert [e["status"] for e in ledger(db)] == ["succeeded", "succeeded"]


def test_rerun_after_the_source_changed_replaces_the_figures(
    orgs: fx.Orgs, db: Engine, settings: Settings
) -> None:
    run_day(db, settings, fx.D)
    with db.begin() as conn:
        # Drop CALL's 11 rows and add 2 praise rows to the small organization's channel B1.
        conn.execute(text("DELETE FROM topic_classifications WHERE channel_id = 'CALL'"))
        fx.insert_classifications(
            conn,
            [
                fx.classification(orgs.small, channel="B1", topic="praise", sentiment=fx.POS)
                for _ in range(2)
            ],
        )
    run_day(db, settings, fx.D)
    rows = trend_rows(db)
    busy = rows[orgs.busy]
    assert busy["total_classifications"] == fx.BUSY_TOTAL - 11
    assert busy["topic_distribution"]["escalation"] == 77 - 11
    assert busy["channel_hotspots"] == fx.BUSY_HOTSPOTS[1:]  # CALL gone, the rest unchanged
    assert busy["avg_confidence"] == pytest.approx(0.5)  # 320 rows of 0.5 remain non-null
    small = rows[orgs.small]
    assert small["topic_distribution"] == {"question": 3, "praise": 2}  # replaced, not added
    assert small["total_classifications"] == 5
    assert small["avg_confidence"] == pytest.approx((0.25 + 0.25 + 0.5 + 0.5) / 4)


def test_org_option_writes_only_that_organization(
    orgs: fx.Orgs, db: Engine, settings: Settings
) -> None:
    summary = run_day(db, settings, fx.D, org_id=orgs.small)
    rows = trend_rows(db)
    assert list(rows) == [orgs.small]
    assert figures(rows[orgs.small]) == fx.SMALL_ROW
    stats = summary.runs[0].stats
    assert stats["organizations_processed"] == 1 and stats["trends_created"] == 1
    assert stats["classifications"] == 3 and stats["malformed_sentiment"] == 0
    assert stats["org_id"] == str(orgs.small)

    run_day(db, settings, fx.D, org_id=orgs.busy)
    busy = trend_rows(db)[orgs.busy]
    assert busy["channel_hotspots"] == fx.BUSY_HOTSPOTS
    assert ledger(db)[-1]["stats"]["malformed_sentiment"] == 13


def test_backfill_runs_each_day_in_order(db: Engine, settings: Settings) -> None:
    from opsmetrics import runs
    from tests.factories import org

    days = [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
    with db.begin() as conn:
        acme = org(conn, "Acme")
        rows = []
        for n, day in enumerate(days, start=1):  # n classifications on the n-th day
            rows += [
                fx.classification(acme, topic="billing", at=f"{day}T09:00:00+00:00")
                for _ in range(n)
            ]
        fx.insert_classifications(conn, rows)
    summary = runs.run(
        "daily-trend-aggregation",
        list(reversed(days)),
        trigger="backfill",
        engine=db,
        settings=settings,
    )
    assert summary.status == "succeeded"
    assert [(e["target_date"], e["trigger"], e["status"]) for e in ledger(db)] == [
        (d, "backfill", "succeeded") for d in days
    ]
    for n, day in enumerate(days, start=1):
        row = trend_rows(db, day)[acme]
        assert row["total_classifications"] == n
        assert row["topic_distribution"] == {"billing": n}


def test_no_organizations_is_a_successful_empty_run(db: Engine, settings: Settings) -> None:
    summary = run_day(db, settings, fx.D)
    assert summary.status == "succeeded"
    assert summary.runs[0].result["organizations_processed"] == 0
    assert trend_rows(db) == {}
