"""Every SQL spelling of the staffing rules agrees with the pure rules on every boundary.

rules.py defines each rule once; the SQL is rendered from it (rules_sql.py) and built into the
weekly counters (streaks.py), the trigger candidates the weekly job reads (weekly.py) and the
three reports. These tests run those expressions and statements on a grid of territories on and
either side of every threshold (tests/territory/grid.py) and compare them with the pure rules
row by row: a threshold or condition written anywhere but rules.py, or one derived spelling
changed alone, fails one of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.territory import streaks
from opsmetrics.territory.figures import read_figures
from opsmetrics.territory.gaps import coverage_gaps, gap_of
from opsmetrics.territory.rules import (
    GAP_STREAK,
    HIRING_STREAK,
    TRIGGER_LADDERS,
    TRIGGER_TYPES,
    Id,
    TerritoryFigures,
)
from opsmetrics.territory.rules_sql import (
    GAP_SEVERITY_SQL,
    GAP_SQL,
    GAP_VOLUME_SQL,
    GAP_WEEK_SQL,
    OVERLOADED_SQL,
    TRIGGER_CANDIDATES,
    TRIGGER_EXCESS_SQL,
    TRIGGER_SEVERITY_SQL,
)
from opsmetrics.territory.summary import summarize
from opsmetrics.territory.triggers import (
    count_by_severity,
    evaluate,
    group_by_region,
    trigger_of,
    triggers_for,
)
from tests.factories import record_run
from tests.territory import grid

S = date(2026, 3, 15)  # a week-ending Sunday
DAILY, WEEKLY = "daily-territory-metrics", "weekly-hiring-triggers"


def _sql_value(v: str | None) -> str:
    return "NULL::numeric" if v is None else f"{v}::numeric"


def test_sql_twins_match_the_rules_on_every_combination(db: Engine) -> None:
    combos = grid.combinations()
    values = ", ".join(
        f"({i}, {u}::numeric, {w}, {t}, {_sql_value(f)}, {_sql_value(r)})"
        for i, (u, w, t, f, r) in enumerate(combos)
    )
    severities = [TRIGGER_SEVERITY_SQL[kind] for kind in TRIGGER_TYPES]
    excesses = [
        TRIGGER_EXCESS_SQL[kind].format(f"({severity})")
        for kind, severity in zip(TRIGGER_TYPES, severities, strict=True)
    ]
    columns = ", ".join(
        [
            *severities,
            *excesses,
            GAP_SQL,
            GAP_SEVERITY_SQL,
            GAP_VOLUME_SQL,
            TRIGGER_CANDIDATES,
            OVERLOADED_SQL,
            GAP_WEEK_SQL,
        ]
    )
    sql = (
        f"SELECT i, {columns}"
        f" FROM (VALUES {values}) AS m(i, primary_medic_utilization, hiring_trigger_weeks,"
        " total_bookings, fulfillment_rate, rejection_rate) ORDER BY i"
    )
    with db.connect() as conn:
        rows = conn.execute(text(sql)).all()
    assert len(rows) == len(combos)
    n = len(TRIGGER_TYPES)
    seen_severities = set()
    for (u, w, t, f, r), (_, *found) in zip(combos, rows, strict=True):
        sql_severities, sql_excesses = found[:n], found[n : 2 * n]
        is_gap, gap_severity, volume_met, candidate, overloaded, gap_week = found[2 * n :]
        fig = TerritoryFigures(
            territory_id=uuid.UUID(int=1),
            org_id=uuid.UUID(int=2),
            postcode_sector="SW1A 1",
            region="London",
            total_bookings=t,
            confirmed_bookings=0,
            rejected_bookings=0,
            rejection_rate=Decimal(r) if r is not None else None,
            fulfillment_rate=Decimal(f) if f is not None else None,
            utilization=Decimal(u),
            hiring_trigger_weeks=w,
            coverage_gap_weeks=w,
        )
        case = (u, w, t, f, r)
        for kind, sql_severity, sql_excess in zip(
            TRIGGER_TYPES, sql_severities, sql_excesses, strict=True
        ):
            rule = trigger_of(kind, fig)
            assert (rule.severity if rule else None) == sql_severity, (kind, *case)
            excess = (
                TRIGGER_LADDERS[kind].excess(rule.metric_value, rule.threshold) if rule else None
            )
            assert excess == sql_excess, (kind, *case)
            seen_severities.add((kind, sql_severity))
        gap = gap_of(fig)
        assert (gap is not None) == bool(is_gap), case
        assert (gap.severity if gap else None) == gap_severity, case
        if gap is not None:
            assert gap.minimum_volume_met == volume_met, case
        assert bool(candidate) == bool(triggers_for(fig)), case
        assert HIRING_STREAK.condition.holds(fig) == overloaded, case
        assert GAP_STREAK.condition.holds(fig) == bool(gap_week), case
    # the grid reaches every outcome of every rule
    assert seen_severities == {
        ("high_utilization", None),
        ("high_utilization", "warning"),
        ("high_utilization", "critical"),
        ("low_fulfillment", None),
        ("low_fulfillment", "critical"),
        ("coverage_gap", None),
        ("coverage_gap", "warning"),
        ("coverage_gap", "critical"),
    }


# --- the weekly counters -----------------------------------------------------------------------


def _next_counts(
    previous: Mapping[Id, tuple[int, int]], rows: list[TerritoryFigures]
) -> dict[Id, tuple[int, int]]:
    """The pure rule: each counter from the week before (0 when missing) and the week's row."""
    out: dict[Id, tuple[int, int]] = {}
    for row in rows:
        hiring, gap = previous.get(row.territory_id, (0, 0))
        out[row.territory_id] = (
            HIRING_STREAK.next_count(hiring, row),
            GAP_STREAK.next_count(gap, row),
        )
    return out


def test_the_weekly_counters_follow_the_rules(db: Engine) -> None:
    """streaks.update_week (S from S-7) and carry_forward (S+7, S+14 from S) count exactly the
    weeks rules.HIRING_STREAK and GAP_STREAK count."""
    with db.begin() as conn:
        g = grid.build_grid(conn)
        # S-7: the grid's weeks as the counters (every 7th territory has no row: counts 0)
        before = [row for i, row in enumerate(g.rows) if i % 7 != 3]
        grid.write_rows(conn, S - timedelta(days=7), before)
        # S and the later weeks: the figures of the grid, shifted, with counters to overwrite
        weeks = {S + timedelta(days=7 * k): g.on(k * 11) for k in range(3)}
        for day, rows in weeks.items():
            grid.write_rows(conn, day, [_with_counters(row, 99) for row in rows])
    previous = {
        row.territory_id: (row.hiring_trigger_weeks, row.coverage_gap_weeks) for row in before
    }
    with db.begin() as conn:
        stats = streaks.update_week(conn, S, None)
        got = grid.counters(conn, S)
    expected = _next_counts(previous, weeks[S])
    assert got == expected
    assert stats == {
        "counters_updated": len(g.rows),
        "without_previous_week": len(g.rows) - len(before),
        "overloaded_territories": sum(1 for h, _ in expected.values() if h > 0),
        "coverage_gap_territories": sum(1 for _, c in expected.values() if c > 0),
    }
    # the counters are extended, started and reset, and cross the critical week count
    assert {h for h, _ in expected.values()} >= {0, 1, 2, 3, 4, 8}
    assert {c for _, c in expected.values()} >= {0, 1, 3, 8}

    later = sorted(weeks)[1:]
    with db.begin() as conn:
        forward = streaks.carry_forward(conn, S, later, None)
        carried = {day: grid.counters(conn, day) for day in later}
    assert forward["weeks_recomputed"] == 2
    for day in later:
        expected = _next_counts(expected, weeks[day])
        assert carried[day] == expected, day


def _with_counters(row: TerritoryFigures, n: int) -> TerritoryFigures:
    return replace(row, hiring_trigger_weeks=n, coverage_gap_weeks=n)


# --- the weekly job's candidates and the reports ------------------------------------------------


def _stored_grid(db: Engine) -> grid.Grid:
    """The grid stored for S with its counters, computed by both jobs as far as the ledger says."""
    with db.begin() as conn:
        g = grid.build_grid(conn)
        grid.write_rows(conn, S, g.rows)
        record_run(conn, DAILY, S)
        record_run(conn, WEEKLY, S)
    return g


def test_the_weekly_job_reads_exactly_the_territories_with_triggers(db: Engine) -> None:
    g = _stored_grid(db)
    with db.connect() as conn:
        candidates = read_figures(conn, S, where=TRIGGER_CANDIDATES)
    assert {c.territory_id for c in candidates} == {
        r.territory_id for r in g.rows if triggers_for(r)
    }
    assert evaluate(candidates) == evaluate(g.rows)


def _report(db: Engine, name: str, **params: Any) -> Report:
    with db.connect() as conn:
        return build(conn, name, ReportParams(date=S, today=S + timedelta(days=1), **params))


def test_the_reports_count_and_list_what_the_rules_find(db: Engine) -> None:
    g = _stored_grid(db)
    everyone = {"org_id": g.org_id, "limit": 100_000}
    for region in (None, "london"):
        rows = [r for r in g.rows if region is None or r.region.lower() == region]
        # territories: the summary over every matching territory
        report = _report(db, "territories", org_id=g.org_id, region=region)
        assert report.summary == summarize(rows).to_dict(), region
        assert len(report.rows) == len(rows)

        # hiring-triggers: counts and every trigger, in the rules' order
        triggers = evaluate(rows)
        report = _report(db, "hiring-triggers", region=region, **everyone)
        assert report.summary == count_by_severity(triggers), region
        assert report.rows == [t.to_dict() for t in triggers], region
        assert [
            {k: v for k, v in group.items() if k != "triggers"}
            for group in report.extra["by_region"]
        ] == [{"region": grp.region, **grp.counts} for grp in group_by_region(triggers)]

        # coverage-gaps, with and without the low-volume ones
        every_gap = coverage_gaps(rows, include_low_volume=True)
        for low in (False, True):
            gaps = coverage_gaps(rows, include_low_volume=low)
            report = _report(db, "coverage-gaps", region=region, include_low_volume=low, **everyone)
            assert report.rows == [gap.to_dict() for gap in gaps], (region, low)
            critical = sum(1 for gap in gaps if gap.severity == "critical")
            assert report.summary == {
                "critical": critical,
                "warning": len(gaps) - critical,
                "total": len(gaps),
                "low_volume": sum(1 for gap in every_gap if not gap.minimum_volume_met),
                "low_volume_included": low,
            }, (region, low)
    # the grid reaches what the reports count
    all_triggers = count_by_severity(evaluate(g.rows))
    assert all_triggers["critical"] and all_triggers["warning"]
    assert summarize(g.rows).average_rejection_rate is not None
