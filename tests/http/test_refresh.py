"""POST /reports/{name}/refresh through both doors: the job's own code recomputes the caller's
organization only, records a run with trigger http, then the answer is the GET's."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.factories import holding_run_lock, insert_rows, refusing_writes
from tests.factories import job_runs as _runs
from tests.http.doors import BOTH, Door, LambdaDoor
from tests.http.world import NEXT_DAY, D, World


def _new_runs(engine: Engine, world: World) -> list[dict[str, Any]]:
    """The job_runs rows beyond the world's own ledger."""
    return [r for r in _runs(engine) if r["id"] not in world.run_ids]


def _bookings(world: World) -> list[dict[str, object]]:
    def booking(who: uuid.UUID, postcode: str, day: str, status: str) -> dict[str, object]:
        return {
            "id": uuid.uuid4(),
            "org_id": who,
            "site_postcode": postcode,
            "shift_date": datetime.fromisoformat(day).date(),
            "status": status,
        }

    a, b = world.org_a, world.org_b
    return [
        booking(a, "sw1a 1aa", "2026-11-23", "confirmed"),
        booking(a, "SW1A1AB", "2026-11-23", "completed"),
        booking(a, " SW1A 1AD ", "2026-11-21", "confirmed"),
        booking(a, "SW1A 1AA", "2026-11-20", "rejected"),
        booking(b, "SW1A 1AA", "2026-11-23", "confirmed"),
    ]


def test_refresh_territories_recomputes_only_the_callers_organization(
    door: Door, world: World, db_env: Engine
) -> None:
    with db_env.begin() as conn:
        insert_rows(conn, "bookings", _bookings(world))
    answer = door.call(
        "POST", "/reports/territories/refresh", f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH
    )
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["date"] == NEXT_DAY.isoformat()
    # Window 2026-11-17..23 for A's SW1A 1: confirmed + completed + confirmed = 3, rejected 1:
    # total 4, rejection 25.00, fulfillment 75.00, utilization 100*3/5 = 60.00.
    by_sector = {r["postcode_sector"]: r for r in body["rows"]}
    assert set(by_sector) == {"SW1A 1", "EC1V 9", "M1 4", "M2 1"}
    sw1a = by_sector["SW1A 1"]
    assert (sw1a["total_bookings"], sw1a["confirmed_bookings"], sw1a["rejected_bookings"]) == (
        4,
        3,
        1,
    )
    assert (sw1a["rejection_rate"], sw1a["fulfillment_rate"]) == (25.0, 75.0)
    assert sw1a["primary_medic_utilization"] == 60.0
    assert body["summary"]["average_utilization"] == 15.0  # (60 + 0 + 0 + 0) / 4
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-job-status"] == "succeeded"
    with db_env.connect() as conn:
        b_rows = conn.execute(
            text("SELECT count(*) FROM territory_metrics WHERE org_id = :b AND metric_date = :d"),
            {"b": world.org_b, "d": NEXT_DAY},
        ).scalar()
    assert b_rows == 0  # B's booking on 11-23 was not touched
    runs = _new_runs(db_env, world)
    assert [(r["job"], r["trigger"], r["status"]) for r in runs] == [
        ("daily-territory-metrics", "http", "succeeded")
    ]
    stats = runs[0]["stats"]
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert isinstance(stats, dict) and stats["org_id"] == str(world.org_a)
    assert answer.headers["x-job-run-id"]


def test_refresh_hiring_triggers_recounts_weeks(door: Door, world: World, db_env: Engine) -> None:
    answer = door.call(
        "POST", "/reports/hiring-triggers/refresh", f"date={D}", org=world.org_a, scopes=BOTH
    )
    assert answer.status == 200, answer.body
    body = answer.json()
    # EC1V 9 had 4 weeks over 80% at D-7 and is at 100% on D: 5 weeks now, so its
    # high_utilization warning becomes critical. SW1A 1: 2 + 1 = 3 weeks, as before.
    assert body["summary"] == {"critical": 5, "warning": 1, "info": 0, "total": 6}
    ec1v = next(
        r
        for r in body["rows"]
        if r["postcode_sector"] == "EC1V 9" and r["trigger_type"] == "high_utilization"
    )
    assert (ec1v["severity"], ec1v["weeks_active"]) == ("critical", 5)
    with db_env.connect() as conn:
        b_weeks = conn.execute(
            text(
                "SELECT hiring_trigger_weeks, coverage_gap_weeks FROM territory_metrics"
                " WHERE org_id = :b AND postcode_sector = 'SW1A 1' AND metric_date = :d"
            ),
            {"b": world.org_b, "d": D},
        ).one()
    # Recomputing B would have made them (1, 1): 100% utilization and 40% of 10 rejected.
    assert tuple(b_weeks) == (0, 0)


def test_refresh_coverage_gaps_answers_as_the_get(door: Door, world: World) -> None:
    answer = door.call(
        "POST",
        "/reports/coverage-gaps/refresh",
        f"date={D}&include_low_volume=true&format=csv",
        org=world.org_a,
        scopes=BOTH,
    )
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.body.strip().splitlines()
    # header + M1 4 (50%), EC1V 9 (33.33%), SW1A 1 (15%)
    assert len(lines) == 4
    assert [line.split(",")[2] for line in lines[1:]] == ["M1 4", "EC1V 9", "SW1A 1"]


def test_refresh_trends_leaves_other_organizations_alone(
    door: Door, world: World, db_env: Engine
) -> None:
    at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    with db_env.begin() as conn:
        insert_rows(
            conn,
            "topic_classifications",
            [
                {
                    "id": uuid.uuid4(),
                    "organization_id": world.org_a,
                    "channel_id": "C9",
                    "topic": "billing",
                    "sentiment": {"tone": "negative", "score": -0.5},
                    "confidence": confidence,
                    "created_at": at,
                }
                for confidence in (0.6, 1.0)
            ],
        )
    answer = door.call("POST", "/reports/trends/refresh", f"date={D}", org=world.org_a, scopes=BOTH)
    assert answer.status == 200, answer.body
    rows = answer.json()["rows"]
    # A's day D now holds its 2 classifications (was 10), mean confidence (0.6 + 1.0) / 2.
    assert [(r["trend_date"], r["total_classifications"]) for r in rows] == [("2026-11-22", 2)]
    assert rows[0]["avg_confidence"] == pytest.approx(0.8)
    assert rows[0]["topic_distribution"] == {"billing": 2}
    with db_env.connect() as conn:
        b_total = conn.execute(
            text(
                "SELECT total_classifications FROM communication_trends"
                " WHERE organization_id = :b AND trend_date = :d"
            ),
            {"b": world.org_b, "d": D},
        ).scalar()
    assert b_total == 7  # recomputing B would have made it 0 (no source rows)


def test_refresh_weekly_report_needs_a_sunday(door: Door, world: World, db_env: Engine) -> None:
    answer = door.call(
        "POST", "/reports/hiring-triggers/refresh", "date=2026-11-23", org=world.org_a, scopes=BOTH
    )
    assert answer.status == 400
    assert answer.error.startswith("date")
    assert _new_runs(db_env, world) == []  # nothing written, not even job_runs


# --- Lambda door only: timing and failure paths that need the environment ---------------------


def test_refresh_while_the_same_run_holds_the_lock_is_409(
    world: World, db_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSMETRICS_LOCK_WAIT_SECONDS", "1")
    with holding_run_lock(db_env, "weekly-hiring-triggers", D):
        answer = LambdaDoor().call(
            "POST", "/reports/hiring-triggers/refresh", f"date={D}", org=world.org_a, scopes=BOTH
        )
    assert answer.status == 409
    assert "already running" in answer.error


def test_a_failed_refresh_is_500_and_keeps_the_old_figures(world: World, db_env: Engine) -> None:
    with refusing_writes(db_env, "territory_metrics", "org_id", None):
        answer = LambdaDoor().call(
            "POST", "/reports/hiring-triggers/refresh", f"date={D}", org=world.org_a, scopes=BOTH
        )
    assert answer.status == 500
    assert "ended failed" in answer.error and "previous figures stand" in answer.error
    assert (
        "refused by the test trigger" not in answer.body
    )  # internals stay in the log and job_runs
    assert [r["status"] for r in _new_runs(db_env, world)] == ["failed"]
    after = (
        LambdaDoor().call("GET", "/reports/hiring-triggers", f"date={D}", org=world.org_a).json()
    )
    assert after["summary"]["total"] == 6  # unchanged
