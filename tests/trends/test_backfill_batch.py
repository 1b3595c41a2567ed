"""A backfill of daily-trend-aggregation in one grouped pass (opsmetrics.batch; available, off by
default: see batch.AVAILABLE) writes exactly
what the same dates run one by one write: communication_trends byte for byte (its timestamps
aside) and each date's ledger stats, on days with every kind of bad row (malformed sentiment,
bad confidences, blank channels, rows at the days' edges in other offsets); one organization
failing keeps each date partial as before; a date on which every organization fails stops the
dates after it."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import batch, runs
from opsmetrics.config import Settings
from opsmetrics.run_results import RunSummary
from tests.batch_checks import ledger_by_date, runs_per_date, table_digest
from tests.factories import insert_rows, refusing_writes
from tests.trends import fixture as fx

JOB = "daily-trend-aggregation"
DATES = [fx.D + timedelta(days=n) for n in range(-6, 4)]  # 10 dates around the fixture's day
CONFIDENCES = [0.1, 0.7, 0.333, 0.9, 1 / 3, 0.2, None, math.nan, -1.0, 5.0, 1e308, math.inf, 1.0]
SENTIMENTS: list[Any] = [
    fx.NEG,
    fx.NEU,
    fx.POS,
    None,
    fx.JSON_NULL,
    "a string",
    [1, 2],
    {"score": 1},
    {"tone": 3},
    {"tone": None},
    {"tone": " "},
]
CHANNELS = ["C1", "C2", "C3", "", "  ", None, "C4"]
TOPICS = ["complaint", "escalation", "billing", "question", "praise"]


def _more_days(engine: Engine, orgs: fx.Orgs, seed: int = 5) -> None:
    """Rows of every kind on every day of DATES and the days around them, at any time of day,
    confidences whose float sum depends on the order they are added in."""
    rng = random.Random(seed)
    start = datetime(DATES[0].year, DATES[0].month, DATES[0].day, tzinfo=UTC) - timedelta(days=1)
    span_s = int(timedelta(days=len(DATES) + 2).total_seconds())
    rows = [
        fx.classification(
            rng.choice(orgs.all()[:3]),
            channel=rng.choice(CHANNELS),
            topic=rng.choice(TOPICS),
            sentiment=rng.choice(SENTIMENTS),
            confidence=rng.choice(CONFIDENCES),
            at=(start + timedelta(seconds=rng.randrange(span_s))).isoformat(),
        )
        for _ in range(1500)
    ]
    alerts = [
        {
            "id": uuid.uuid4(),
            "organization_id": rng.choice(orgs.all()),
            "severity": rng.choice(["low", "medium", "high", "critical"]),
            "created_at": start + timedelta(seconds=rng.randrange(span_s)),
        }
        for _ in range(60)
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 300):
            fx.insert_classifications(conn, rows[i : i + 300])
        insert_rows(conn, "escalation_alerts", alerts)


@pytest.fixture(autouse=True)
def trend_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trend job's pass is available, not used by default (opsmetrics.batch.AVAILABLE)."""
    monkeypatch.setitem(batch.BATCHED, JOB, batch.AVAILABLE[JOB])


def test_the_trend_job_runs_date_by_date_by_default(
    db: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # BATCHED as shipped, without the fixture's addition
    summary = runs.run(JOB, DATES[:3], trigger="backfill", engine=db, settings=settings)
    assert summary.ok and not any("batch" in r.stats for r in summary.runs)


@pytest.fixture
def orgs(db: Engine) -> fx.Orgs:
    with db.begin() as conn:
        found = fx.load_day(conn)
    _more_days(db, found)
    return found


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    return (
        table_digest(
            engine,
            "communication_trends",
            "organization_id, trend_date, trend_period",
            {"created_at", "updated_at"},
        ),
        ledger_by_date(engine, JOB),
    )


def _separately(engine: Engine, settings: Settings, dates: list[date]) -> None:
    """Each date its own request, stopping at a failed one, as a date-by-date backfill did."""
    for d in dates:
        summary = runs.run(JOB, [d], trigger="backfill", engine=engine, settings=settings)
        assert "batch" not in summary.runs[0].stats
        if summary.runs[0].status == "failed":
            break


def _together(engine: Engine, settings: Settings, dates: list[date]) -> RunSummary:
    return runs.run(JOB, dates, trigger="backfill", engine=engine, settings=settings)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE communication_trends, job_runs"))


def test_a_batch_writes_what_separate_runs_write_first_run_and_rerun(
    orgs: fx.Orgs, settings: Settings, db: Engine
) -> None:
    _separately(db, settings, DATES)
    separate = _snapshot(db)
    _separately(db, settings, DATES)
    separate_rerun = _snapshot(db)
    _reset(db)
    summary = _together(db, settings, DATES)
    assert summary.ok
    assert all(r.stats["batch"]["dates"] == len(DATES) for r in summary.runs)  # one pass
    batched = _snapshot(db)
    _together(db, settings, DATES)
    assert batched == separate
    assert _snapshot(db) == separate_rerun
    assert batched[0][0] == 4 * len(DATES)
    stats = batched[1][fx.D.isoformat()][1]
    assert stats["malformed_sentiment"] > fx.BUSY_MALFORMED and stats["bad_confidence"] > 0
    assert set(runs_per_date(db, JOB).values()) == {2}


def test_one_failing_organization_leaves_every_date_partial_as_separate_runs_do(
    orgs: fx.Orgs, settings: Settings, db: Engine
) -> None:
    with refusing_writes(db, "communication_trends", "organization_id", orgs.small):
        _separately(db, settings, DATES)
        separate = _snapshot(db)
        _reset(db)
        summary = _together(db, settings, DATES)
    assert [r.status for r in summary.runs] == ["partial"] * len(DATES)
    assert all(r.stats["batch"]["dates"] == len(DATES) for r in summary.runs)
    assert _snapshot(db) == separate
    assert summary.runs[0].stats["failed_organizations"] == [str(orgs.small)]


def test_a_date_on_which_every_organization_fails_stops_the_dates_after_it(
    orgs: fx.Orgs, settings: Settings, db: Engine
) -> None:
    failing = DATES[4]
    with refusing_writes(db, "communication_trends", "trend_date", failing.isoformat()):
        _separately(db, settings, DATES)
        separate = _snapshot(db)
        _reset(db)
        summary = _together(db, settings, DATES)
    assert [r.status for r in summary.runs] == ["succeeded"] * 4 + ["failed"] + ["skipped"] * 5
    assert _snapshot(db) == separate
    assert runs_per_date(db, JOB) == {d.isoformat(): 1 for d in DATES[:5]}


def test_dates_with_gaps_in_one_pass_match_separate_runs(
    orgs: fx.Orgs, settings: Settings, db: Engine
) -> None:
    dates = [DATES[0], DATES[2], DATES[3], DATES[6], DATES[9]]  # a catch-up's holes
    for d in dates:
        assert runs.run(JOB, [d], trigger="backfill", engine=db, settings=settings).ok
    separate = _snapshot(db)
    _reset(db)
    summary = _together(db, settings, dates)
    assert summary.ok and all(r.stats["batch"]["dates"] == len(dates) for r in summary.runs)
    assert _snapshot(db) == separate


def test_the_aggregation_leaves_the_transactions_settings_as_it_found_them(db: Engine) -> None:
    from opsmetrics.trends.daily import compute_dates

    with db.connect() as conn:
        conn.begin()
        before = conn.execute(text("SELECT current_setting('enable_indexscan')")).scalar_one()
        compute_dates(conn, [fx.D], None)
        after = conn.execute(text("SELECT current_setting('enable_indexscan')")).scalar_one()
        conn.rollback()
    assert before == after == "on"
