"""The in-process answer cache: reused only while the outputs' version is unchanged and for at
most five minutes; per organization, format and parameters."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, text

from opsmetrics.config import HttpSettings
from opsmetrics.errors import ConfigError
from opsmetrics.reports.caching import AnswerCache
from opsmetrics.reports.messages import Response
from tests.http.doors import Door
from tests.http.world import D, World


def _answer(body: str) -> Response:
    return Response(200, body, {"Content-Type": "application/json", "ETag": '"t"'})


def test_entries_live_while_the_version_holds_and_not_longer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("opsmetrics.reports.caching.time.monotonic", lambda: clock[0])
    cache = AnswerCache(max_bytes=1000, max_age_s=300)
    cache.put("k", (1,), _answer("one"))
    hit = cache.get("k", (1,))
    assert hit is not None and hit.body == "one"
    hit.headers["X"] = "changed"  # a copy: the kept answer is not touched
    again = cache.get("k", (1,))
    assert again is not None and "X" not in again.headers
    assert cache.get("k", (2,)) is None  # a job ran: gone
    assert cache.get("k", (1,)) is None
    cache.put("k", (1,), _answer("one"))
    clock[0] += 301
    assert cache.get("k", (1,)) is None  # older than five minutes


def test_least_recently_used_answers_leave_first() -> None:
    cache = AnswerCache(max_bytes=100)
    cache.put("a", (), _answer("a" * 20))
    cache.put("b", (), _answer("b" * 20))
    cache.put("c", (), _answer("c" * 20))
    assert cache.get("a", ()) is not None  # a is now the most recent
    cache.put("d", (), _answer("d" * 20))
    cache.put("e", (), _answer("e" * 20))
    cache.put("f", (), _answer("f" * 20))  # 6 x 20 > 100: the least recent (b) leaves
    assert cache.get("b", ()) is None
    assert all(cache.get(k, ()) is not None for k in "acdef")
    cache.put("big", (), _answer("x" * 26))  # over a quarter of the budget: never kept
    assert cache.get("big", ()) is None


def test_configuration() -> None:
    assert AnswerCache.for_settings(HttpSettings.from_env({})).max_bytes == 64 * 1024 * 1024
    off = AnswerCache.for_settings(HttpSettings.from_env({"OPSMETRICS_REPORT_CACHE_MB": "0"}))
    assert not off.enabled
    off.put("k", (), _answer("x"))
    assert off.get("k", ()) is None
    with pytest.raises(ConfigError, match="OPSMETRICS_REPORT_CACHE_MB"):
        AnswerCache.for_settings(HttpSettings.from_env({"OPSMETRICS_REPORT_CACHE_MB": "lots"}))


def _sw1a_total(door: Door, world: World) -> int:
    rows = door.call("GET", "/reports/territories", "region=London", org=world.org_a).json()["rows"]
    return int(next(r["total_bookings"] for r in rows if r["postcode_sector"] == "SW1A 1"))


def test_answers_follow_job_runs_through_both_doors(
    door: Door, world: World, db_env: Engine
) -> None:
    assert _sw1a_total(door, world) == 20
    with db_env.begin() as conn:
        conn.execute(
            text(
                "UPDATE territory_metrics SET total_bookings = 21"
                " WHERE territory_id = :t AND metric_date = :d"
            ),
            {"t": world.tid("A", "SW1A 1"), "d": D},
        )
    # Changed behind the jobs' back: the kept answer stands (at most five minutes).
    assert _sw1a_total(door, world) == 20
    # Any run of any job moves the outputs' version: the next answer is read afresh.
    with db_env.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (id, job, target_date, trigger, status, started_at,"
                " finished_at) VALUES (:id, 'daily-trend-aggregation', :d, 'manual',"
                " 'succeeded', now(), now())"
            ),
            {"id": uuid.uuid4(), "d": D},
        )
    assert _sw1a_total(door, world) == 21
    # Another organization, another key: B's answer never comes from A's.
    rows = door.call("GET", "/reports/territories", "region=London", org=world.org_b).json()
    assert [r["territory_id"] for r in rows["rows"]] == [str(world.tid("B", "SW1A 1"))]
