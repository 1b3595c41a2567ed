"""Reports over time (spec §7) through both front doors: `as_of`, `stale`, Last-Modified,
"not computed" as 404, bounds as 400, and a default date that only a succeeded run makes.

The world's ledger (tests/http/world.py, RUNS) has every job succeeded for D (and the days
before it), finished at 03:00:12 UTC the next day (the weekly job at 04:00:12). The doors read
the real clock, so `today` is far enough after D that every job is stale until a test records a
run for its expected date.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from opsmetrics.jobs import JOBS
from opsmetrics.reports.registry import REPORT_JOBS
from tests.factories import record_run
from tests.http.doors import BOTH, Door, LambdaDoor
from tests.http.world import NEXT_DAY, D, World

# path -> (as_of in JSON, Last-Modified)
AS_OF = {
    "/reports/territories": ("2026-11-23T03:00:12Z", "Mon, 23 Nov 2026 03:00:12 GMT"),
    "/reports/hiring-triggers": ("2026-11-23T04:00:12Z", "Mon, 23 Nov 2026 04:00:12 GMT"),
    "/reports/coverage-gaps": ("2026-11-23T04:00:12Z", "Mon, 23 Nov 2026 04:00:12 GMT"),
    # the latest finish among the days shown (D-1 and D)
    "/reports/trends": ("2026-11-23T03:00:12Z", "Mon, 23 Nov 2026 03:00:12 GMT"),
}


def _today() -> date:
    return datetime.now(UTC).date()


def _same(day: date) -> date:
    return day


def _record(engine: Engine, job: str, day: date, **kwargs: Any) -> None:
    with engine.begin() as conn:
        record_run(conn, job, day, **kwargs)


@pytest.mark.parametrize("path", list(AS_OF))
def test_every_answer_says_as_of_and_stale_and_sets_last_modified(
    door: Door, world: World, path: str
) -> None:
    as_of, last_modified = AS_OF[path]
    answer = door.call("GET", path, org=world.org_a)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert (body["date"], body["as_of"], body["stale"]) == (D.isoformat(), as_of, True)
    assert answer.headers["last-modified"] == last_modified
    assert answer.headers["x-report-date"] == D.isoformat()
    as_csv = door.call("GET", path, "format=csv", org=world.org_a)
    assert as_csv.status == 200
    assert as_csv.headers["last-modified"] == last_modified
    assert as_csv.headers["x-report-date"] == D.isoformat()
    assert list(csv.reader(io.StringIO(as_csv.body)))[1:], "CSV keeps its rows"


@pytest.mark.parametrize("path", list(AS_OF))
def test_stale_turns_false_once_the_expected_date_is_computed(
    door: Door, world: World, db_env: Engine, path: str
) -> None:
    spec = JOBS[REPORT_JOBS[path.rsplit("/", 1)[1]]]
    query = "from=2026-11-16&to=2026-11-22" if path.endswith("trends") else f"date={D}"
    assert door.call("GET", path, query, org=world.org_a).json()["stale"] is True
    # A run for another organization does not make A's figures fresh; nor does a failed one.
    _record(db_env, spec.name, spec.target_for(_today()), org_id=world.org_b)
    _record(db_env, spec.name, spec.target_for(_today()), status="failed")
    assert door.call("GET", path, query, org=world.org_a).json()["stale"] is True
    assert door.call("GET", path, query, org=world.org_b).json()["stale"] is False
    # The answer cache follows the ledger: the same request is answered afresh.
    _record(db_env, spec.name, spec.target_for(_today()), org_id=world.org_a)
    body = door.call("GET", path, query, org=world.org_a).json()
    assert (body["stale"], body["as_of"]) == (False, AS_OF[path][0])


def test_not_computed_is_404_naming_the_command(door: Door, world: World) -> None:
    answer = door.call("GET", "/reports/hiring-triggers", "date=2020-01-05", org=world.org_a)
    assert answer.status == 404, answer.body
    assert answer.error == (
        "hiring-triggers for 2020-01-05 was not computed:"
        " run `opsmetrics run weekly-hiring-triggers --date 2020-01-05`"
    )
    assert answer.headers["cache-control"] == "no-store"
    gaps = door.call("GET", "/reports/coverage-gaps", "date=2026-11-08", org=world.org_a)
    assert gaps.status == 404 and "--date 2026-11-08`" in gaps.error
    # NEXT_DAY has no run: not computed, even with a format asked for.
    territories = door.call(
        "GET", "/reports/territories", f"date={NEXT_DAY}&format=csv", org=world.org_a
    )
    assert territories.status == 404
    assert territories.error.endswith(
        f"run `opsmetrics run daily-territory-metrics --date {NEXT_DAY}`"
    )
    trends = door.call("GET", "/reports/trends", "from=2026-11-01&to=2026-11-07", org=world.org_a)
    assert trends.status == 404
    assert trends.error == (
        "trends for 2026-11-01..2026-11-07 was not computed: run"
        " `opsmetrics run daily-trend-aggregation --from 2026-11-01 --to 2026-11-07`"
    )


def test_a_refresh_computes_what_was_not_computed(door: Door, world: World) -> None:
    path = "/reports/territories"
    assert door.call("GET", path, f"date={NEXT_DAY}", org=world.org_a).status == 404
    refresh = door.call("POST", f"{path}/refresh", f"date={NEXT_DAY}", org=world.org_a, scopes=BOTH)
    assert refresh.status == 200, refresh.body
    assert refresh.json()["stale"] is True  # NEXT_DAY is not the daily job's expected date
    assert refresh.headers["last-modified"].endswith(" GMT")
    answer = door.call("GET", path, org=world.org_a)
    assert answer.status == 200
    # The refresh's run is now A's latest computed date, as of when that run finished.
    assert answer.json()["date"] == NEXT_DAY.isoformat()
    assert answer.json()["as_of"] == refresh.json()["as_of"]


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/reports/territories", "date=1999-12-31", "date 1999-12-31 is outside the valid dates"),
        ("/reports/hiring-triggers", "date=1999-12-26", "date 1999-12-26 is outside"),
        ("/reports/trends", "from=1999-12-30&to=2000-01-02", "from 1999-12-30 is outside"),
    ],
)
def test_dates_outside_the_valid_dates_are_400(
    door: Door, world: World, path: str, query: str, named: str
) -> None:
    answer = door.call("GET", path, query, org=world.org_a)
    assert answer.status == 400, answer.body
    assert named in answer.error


def test_default_date_ignores_later_runs_that_are_not_computed_dates_for_today(
    door: Door, world: World, db_env: Engine
) -> None:
    # A failed run the day after D, and a succeeded one a month ahead (a date in the future is
    # not "on or before today"): the default stays D.
    _record(db_env, "daily-territory-metrics", NEXT_DAY, status="failed")
    _record(db_env, "daily-territory-metrics", _today() + timedelta(days=30))
    body = door.call("GET", "/reports/territories", org=world.org_a).json()
    assert (body["date"], body["as_of"]) == (D.isoformat(), AS_OF["/reports/territories"][0])


def test_cached_answers_are_kept_per_day(
    world: World, db_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda door only (its clock can be set): `stale` changes at midnight with no new run,
    so an answer kept on one day is not served on the next."""
    from opsmetrics.reports import lambda_app

    door = LambdaDoor()
    for today, stale in (
        (NEXT_DAY, False),
        (NEXT_DAY + timedelta(days=1), True),
        (NEXT_DAY, False),
    ):
        deps = replace(lambda_app.DEPS, today=functools.partial(_same, today))
        monkeypatch.setattr(lambda_app, "DEPS", deps)
        body = door.call("GET", "/reports/territories", org=world.org_a).json()
        assert (body["date"], body["stale"]) == (D.isoformat(), stale)
