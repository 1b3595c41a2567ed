"""The weekly chain (spec §7) against PostgreSQL: missed weeks computed first, corrected weeks
carried forward, the earliest target date as the start of the calendar.

One organization, one territory H booked 6 confirmed shifts in each of five weeks ending on the
Sundays S1..S5: utilization 100 > 80 every week, so its counters are 1, 2, 3, 4, 5. A second
territory K, 3 confirmed + 7 rejected each week (rejection 70, volume 10): coverage weeks 1..5.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics import runs
from opsmetrics.config import Settings
from opsmetrics.job_context import JobContext, JobOutcome
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import streaks
from tests.factories import cancel_week, insert_rows, org
from tests.factories import job_runs as ledger
from tests.territory.fixture import territory
from tests.territory.test_weekly_db import week

JOB = "weekly-hiring-triggers"
S1 = date(2026, 10, 4)
SUNDAYS = [S1 + timedelta(weeks=i) for i in range(5)]
S2, S3, S4, S5 = SUNDAYS[1:]


@pytest.fixture
def chain(db: Engine) -> dict[str, uuid.UUID]:
    with db.begin() as conn:
        a = org(conn, "Chain Medics")
        h = territory(conn, a, "OX7 4", "South East")
        k = territory(conn, a, "OX7 5", "South East")
        for s in SUNDAYS:
            week(conn, a, "OX7 4AA", s, confirmed=6)
            week(conn, a, "OX7 5AA", s, confirmed=3, rejected=7)
    return {"org": a, "H": h, "K": k}


def weekly(engine: Engine, settings: Settings, dates: list[date]) -> RunSummary:
    return runs.run(JOB, dates, trigger="manual", engine=engine, settings=settings)


def streak(engine: Engine, territory_id: uuid.UUID) -> dict[date, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT metric_date, hiring_trigger_weeks, coverage_gap_weeks"
                " FROM territory_metrics WHERE territory_id = :t"
                " AND extract(isodow FROM metric_date) = 7 ORDER BY 1"
            ),
            {"t": territory_id},
        )
        return {r[0]: (r[1], r[2]) for r in rows}


def test_a_corrected_week_restarts_the_later_streaks(
    chain: dict[str, uuid.UUID], settings: Settings, db: Engine
) -> None:
    assert weekly(db, settings, SUNDAYS).ok
    assert [v[0] for v in streak(db, chain["H"]).values()] == [1, 2, 3, 4, 5]
    # S2's bookings of H are cancelled after the fact: the data correction of the issue.
    cancel_week(db, ["OX7 4AA"], S2)
    daily = runs.run(
        "daily-territory-metrics", [S2], trigger="manual", engine=db, settings=settings
    )
    assert daily.ok
    summary = weekly(db, settings, [S2])
    assert summary.ok and [r.target_date for r in summary.runs] == [S2]
    assert summary.runs[0].stats["weeks_recomputed"] == 3
    assert summary.runs[0].stats["counters_changed"] == 3  # H at S3, S4, S5; K unchanged
    assert [v[0] for v in streak(db, chain["H"]).values()] == [1, 0, 1, 2, 3]
    assert [v[1] for v in streak(db, chain["K"]).values()] == [1, 2, 3, 4, 5]
    # the weekly reports of the recomputed Sundays say when their counters were rewritten
    from opsmetrics.reports.model import ReportParams
    from opsmetrics.reports.registry import build

    with db.connect() as conn:
        s2_run = conn.execute(
            text(
                "SELECT max(finished_at) FROM job_runs WHERE job = :j AND target_date = :d"
                " AND status = 'succeeded'"
            ),
            {"j": JOB, "d": S2},
        ).scalar_one()
        report = build(conn, "hiring-triggers", ReportParams(date=S4, today=S5 + timedelta(1)))
    assert report.freshness is not None and report.freshness.as_of == s2_run
    # and the later weeks read the same as a clean in-order recompute would
    before = {s: streak(db, chain["H"])[s] for s in SUNDAYS}
    assert weekly(db, settings, SUNDAYS).ok
    assert {s: streak(db, chain["H"])[s] for s in SUNDAYS} == before


def test_a_missed_week_is_computed_first_not_counted_as_zero(
    chain: dict[str, uuid.UUID], settings: Settings, db: Engine
) -> None:
    assert weekly(db, settings, [S1, S2]).ok
    summary = weekly(db, settings, [S4])  # S3 was never run
    assert summary.ok
    assert [(r.target_date, r.status) for r in summary.runs] == [
        (S3, "succeeded"),
        (S4, "succeeded"),
    ]
    assert streak(db, chain["H"])[S4] == (4, 0)
    assert streak(db, chain["K"])[S4] == (0, 4)
    rows = [r for r in ledger(db) if r["target_date"] in (S3, S4)]
    assert {r["request_id"] for r in rows} == {summary.request.id}  # one request


def test_the_chain_starts_at_the_earliest_target_date(
    chain: dict[str, uuid.UUID], settings: Settings, db: Engine
) -> None:
    # The job's first ever run: nothing before it is computed, S2 counts as 0.
    summary = weekly(db, settings, [S3])
    assert [r.target_date for r in summary.runs] == [S3]
    assert streak(db, chain["H"])[S3] == (1, 0)
    # A later run for S5 computes the missing S4 (after the earliest target), not S1 or S2.
    summary = weekly(db, settings, [S5])
    assert [r.target_date for r in summary.runs] == [S4, S5]
    assert streak(db, chain["H"])[S5] == (3, 0)
    assert streak(db, chain["K"])[S5] == (0, 3)


def test_a_failed_earlier_week_stops_the_later_one(
    chain: dict[str, uuid.UUID], settings: Settings, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert weekly(db, settings, [S1]).ok
    from opsmetrics.territory import weekly as weekly_job

    real = weekly_job.compute

    def broken_on_s2(ctx: JobContext) -> JobOutcome:
        if ctx.target_date == S2:
            raise RuntimeError("S2 broke")
        return real(ctx)

    monkeypatch.setattr(weekly_job, "compute", broken_on_s2)
    summary = weekly(db, settings, [S3])
    assert [(r.target_date, r.status) for r in summary.runs] == [
        (S2, "failed"),
        (S3, "skipped"),
    ]
    assert S3 not in streak(db, chain["H"])


# --- the forward statement against the recurrence, on random histories -----------------------


def _recurrence(weeks: list[tuple[bool, bool] | None], base: tuple[int, int]) -> list[Any]:
    """The contract's recurrence week by week: None is a missing row (counts as 0)."""
    out: list[Any] = [base]
    for row in weeks[1:]:
        if row is None:
            out.append(None)
            continue
        prev = out[-1] or (0, 0)
        out.append((prev[0] + 1 if row[0] else 0, prev[1] + 1 if row[1] else 0))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_carry_forward_equals_the_week_by_week_recurrence(db: Engine, seed: int) -> None:
    rng = random.Random(seed)
    n_weeks = 12
    sundays = [S1 + timedelta(weeks=i) for i in range(n_weeks)]
    with db.begin() as conn:
        a = org(conn)
        expected: dict[uuid.UUID, list[Any]] = {}
        rows = []
        for t in range(8):
            tid = territory(conn, a, f"T{t} 1", "Wales")
            pattern: list[tuple[bool, bool] | None] = [
                None if i and rng.random() < 0.1 else (rng.random() < 0.7, rng.random() < 0.6)
                for i in range(n_weeks)
            ]
            base = (rng.randint(0, 4), rng.randint(0, 4))
            pattern[0] = pattern[0] or (True, True)
            expected[tid] = _recurrence(pattern, base)
            for i, (sunday, row) in enumerate(zip(sundays, pattern, strict=True)):
                if row is None:
                    continue
                hot, gap = row
                rows.append(
                    {
                        "territory_id": tid,
                        "org_id": a,
                        "postcode_sector": f"T{t} 1",
                        "metric_date": sunday,
                        "total_bookings": 10 if gap else 9,
                        "confirmed_bookings": 5,
                        "rejected_bookings": 5,
                        "rejection_rate": 50,
                        "fulfillment_rate": 50,
                        "primary_medic_utilization": 100 if hot else 80,
                        # stale counters everywhere but the base week
                        "hiring_trigger_weeks": base[0] if i == 0 else 99,
                        "coverage_gap_weeks": base[1] if i == 0 else 99,
                        "computed_at": "2026-11-01T00:00:00Z",
                    }
                )
        insert_rows(conn, "territory_metrics", rows)
        done = streaks.carry_forward(conn, sundays[0], sundays[1:], None)
    assert done["weeks_recomputed"] == n_weeks - 1
    for tid, want in expected.items():
        got = streak(db, tid)
        assert [got.get(s) for s in sundays] == want


def test_two_weekly_runs_never_rewrite_the_chain_at_once(
    chain: dict[str, uuid.UUID], settings: Settings, db: Engine
) -> None:
    """A run of one Sunday rewrites the later ones, so weekly runs of different Sundays take
    turns: while another holds the job's lock, a run gives up after its wait, writing nothing."""
    from opsmetrics.errors import JobAlreadyRunning
    from opsmetrics.ledger import JOB_LOCK_DAY
    from tests.factories import holding_run_lock

    with (
        holding_run_lock(db, JOB, JOB_LOCK_DAY),
        pytest.raises(JobAlreadyRunning, match="another date of it"),
    ):
        weekly(db, replace(settings, lock_wait_s=1), [S3])
    assert ledger(db) == []
    assert weekly(db, settings, [S3]).ok  # and once it is free, it runs
