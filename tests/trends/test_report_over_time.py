"""Reports over time (spec §7) for the `trends` range report, on hand-built ledgers.

communication_trends rows and the job_runs rows around them are written by hand, so each test
says which dates the job computed (a succeeded run covering the organization) and which merely
have rows. D = 2026-03-10; organization Acme has `n` classifications on each day with a row.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import EXIT_BAD_REQUEST, main
from opsmetrics.errors import BadRequest, NotFound
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.reports.registry import build
from tests.factories import insert_rows, org, record_run

JOB = "daily-trend-aggregation"
D = date(2026, 3, 10)
AT = datetime(2026, 3, 11, 3, 0, 12, tzinfo=UTC)


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def report(engine: Engine, **params: Any) -> Report:
    params.setdefault("today", day(5))
    with engine.connect() as conn:
        return build(conn, "trends", ReportParams(**params))


def trend_row(org_id: uuid.UUID, when: date, n: int) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "trend_date": when,
        "trend_period": "daily",
        "topic_distribution": {"billing": n},
        "sentiment_distribution": {"neutral": n},
        "escalation_counts": {},
        "channel_hotspots": [],
        "total_classifications": n,
        "avg_confidence": 0.5,
        "created_at": AT,
        "updated_at": AT,
    }


@pytest.fixture
def acme(db_env: Engine) -> uuid.UUID:
    """Rows on D-1 (1), D (2), D+1 (4), D+2 (8) and 9999-12-31 (16). Runs: D-1 and D succeeded
    (D-1's rerun finished last), D+1 failed, 9999-12-31 succeeded; D+2 has no run at all."""
    with db_env.begin() as conn:
        acme = org(conn, "Acme")
        far = date(9999, 12, 31)
        insert_rows(
            conn,
            "communication_trends",
            [
                trend_row(acme, when, n)
                for when, n in ((day(-1), 1), (D, 2), (day(1), 4), (day(2), 8), (far, 16))
            ],
        )
        record_run(conn, JOB, D, finished_at=AT)
        record_run(conn, JOB, day(-1), finished_at=AT + timedelta(hours=30))
        record_run(conn, JOB, day(1), status="failed", finished_at=AT + timedelta(days=1))
        record_run(conn, JOB, far, finished_at=AT)
    return acme


def test_default_week_ends_at_the_latest_day_computed_and_shows_only_computed_days(
    acme: uuid.UUID, db_env: Engine
) -> None:
    r = report(db_env, org_id=acme)
    doc = r.to_dict()
    assert (doc["date"], doc["date_from"], doc["date_to"]) == (
        "2026-03-10",
        "2026-03-04",
        "2026-03-10",
    )
    assert [row["total_classifications"] for row in r.rows] == [1, 2]
    assert r.summary["days_with_data"] == 2 and r.summary["total_classifications"] == 3
    assert doc["dates_not_computed"] == [day(n).isoformat() for n in range(-6, -1)]
    # as_of: the latest finish among the days shown (D-1's rerun), not D's own.
    assert doc["as_of"] == "2026-03-12T09:00:12Z"


def test_a_range_shows_its_computed_days_and_lists_the_others(
    acme: uuid.UUID, db_env: Engine
) -> None:
    r = report(db_env, org_id=acme, date_from=day(-1), date_to=day(2))
    assert [row["trend_date"] for row in r.rows] == [day(-1), D]
    assert r.summary["days"] == 4 and r.summary["total_classifications"] == 1 + 2
    assert r.extra["dates_not_computed"] == ["2026-03-11", "2026-03-12"]
    one = report(db_env, org_id=acme, date=D)
    assert one.freshness is not None and one.freshness.as_of == AT
    assert one.extra["dates_not_computed"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"date_from": day(1), "date_to": day(2)},
            "trends for 2026-03-11..2026-03-12 was not computed: run"
            " `opsmetrics run daily-trend-aggregation --from 2026-03-11 --to 2026-03-12`",
        ),
        (
            {"date": day(1)},
            "trends for 2026-03-11 was not computed:"
            " run `opsmetrics run daily-trend-aggregation --date 2026-03-11`",
        ),
        (
            {"date_from": day(2)},  # a week from D+2: D+2..D+8, nothing computed
            "trends for 2026-03-12..2026-03-18 was not computed: run"
            " `opsmetrics run daily-trend-aggregation --from 2026-03-12 --to 2026-03-18`",
        ),
    ],
)
def test_a_range_without_a_computed_day_is_not_found(
    acme: uuid.UUID, db_env: Engine, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(NotFound) as caught:
        report(db_env, org_id=acme, **params)
    assert str(caught.value) == message


def test_runs_of_one_organization_cover_only_it(acme: uuid.UUID, db_env: Engine) -> None:
    with db_env.begin() as conn:
        other = org(conn, "Other")
        record_run(conn, JOB, day(2), org_id=other, finished_at=AT + timedelta(days=2))
    assert report(db_env, org_id=acme).date == D
    assert report(db_env, org_id=other).date == day(2)
    with db_env.begin() as conn:
        record_run(conn, JOB, day(2), org_id=acme, finished_at=AT + timedelta(days=3))
    mine = report(db_env, org_id=acme)
    assert (mine.date, [row["total_classifications"] for row in mine.rows]) == (day(2), [1, 2, 8])
    assert mine.to_dict()["as_of"] == "2026-03-14T03:00:12Z"
    # Every organization (the command line without --org): only runs for all of them count.
    assert report(db_env).date == D


def test_stale_follows_yesterday(acme: uuid.UUID, db_env: Engine) -> None:
    def stale(today: date, org_id: uuid.UUID | None = acme) -> bool:
        fresh = report(db_env, org_id=org_id, today=today).freshness
        assert fresh is not None
        return fresh.stale

    assert stale(day(1)) is False  # expects D: computed
    assert stale(day(2)) is True  # expects D+1: only a failed run
    with db_env.begin() as conn:
        record_run(conn, JOB, day(1), org_id=acme)
    assert (stale(day(2)), stale(day(2), None)) == (False, True)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": date(1999, 12, 31)}, "date 1999-12-31 is outside the valid dates"),
        ({"date_from": date(1999, 12, 31)}, "from 1999-12-31 is outside the valid dates"),
        ({"date_to": date(2027, 3, 17)}, "to 2027-03-17 is outside the valid dates"),
    ],
)
def test_dates_outside_the_valid_dates_are_bad_requests(
    acme: uuid.UUID, db_env: Engine, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        report(db_env, org_id=acme, **params)


def test_cli_not_computed_exits_2_and_json_carries_as_of(
    acme: uuid.UUID, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "trends", "--org", str(acme), "--format", "json"]
    assert main([*base, "--from", "2026-03-11", "--to", "2026-03-12"]) == EXIT_BAD_REQUEST
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.endswith(
        "run `opsmetrics run daily-trend-aggregation --from 2026-03-11 --to 2026-03-12`\n"
    )
    assert main([*base, "--date", "2026-03-10"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["as_of"], doc["stale"]) == ("2026-03-11T03:00:12Z", True)
