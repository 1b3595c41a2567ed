"""Bad numbers are bad rows, through the command line (spec §8): one organization's NaN,
±1e308 and blank channel ids are counted and left out; the day still succeeds, the other
organization's figures stand byte for byte, and no output, JSON or table, holds NaN or
Infinity. (The hand-computed figures are in tests/trends/test_bad_numbers.py.)"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics.cli import main
from tests.factories import insert_rows, job_runs, org

JOB = "daily-trend-aggregation"
DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _rows(org_id: Any, confidences: list[float], channel: str | None) -> list[dict[str, Any]]:
    return [
        {
            "organization_id": org_id,
            "channel_id": channel,
            "topic": "billing",
            "sentiment": json.dumps({"tone": "negative"}),
            "confidence": c,
            "created_at": NOON + timedelta(seconds=i),
        }
        for i, c in enumerate(confidences)
    ]


def _figures(engine: Engine, org_id: Any) -> str:
    """Every column of the organization's row but updated_at (a rerun rewrites the row)."""
    with engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT concat_ws('|', topic_distribution, sentiment_distribution,"
                    " escalation_counts, channel_hotspots, total_classifications,"
                    " avg_confidence, created_at) FROM communication_trends"
                    " WHERE organization_id = :o AND trend_date = :d"
                ),
                {"o": org_id, "d": DAY},
            ).scalar_one()
        )


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the JSON holds {name}")


def test_one_organizations_bad_numbers_are_counted_and_harm_no_one(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with db_env.begin() as conn:
        clean, bad = org(conn, "Clean Co"), org(conn, "Bad Data Ltd")
        insert_rows(conn, "topic_classifications", _rows(clean, [0.5, 0.7], "C1"))
        insert_rows(conn, "topic_classifications", _rows(bad, [0.25], "C9"))
    assert main(["run", JOB, "--date", DAY.isoformat()]) == 0
    before = _figures(db_env, clean)

    with db_env.begin() as conn:  # the classifier sends garbage for one organization
        insert_rows(
            conn,
            "topic_classifications",
            _rows(bad, [1e308, 1e308, math.nan, -1.0, math.inf], "   "),
        )
    capsys.readouterr()
    assert main(["run", JOB, "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out

    [_, rerun] = job_runs(db_env)
    assert (rerun["status"], rerun["error"]) == ("succeeded", None)
    assert rerun["stats"]["bad_confidence"] == 5  # 1e308 twice (their sum overflows), NaN, -1, inf
    assert _figures(db_env, clean) == before
    with db_env.connect() as conn:
        row = conn.execute(
            text(
                "SELECT avg_confidence, total_classifications, channel_hotspots"
                " FROM communication_trends WHERE organization_id = :o AND trend_date = :d"
            ),
            {"o": bad, "d": DAY},
        ).one()
    assert (row.avg_confidence, row.total_classifications) == (0.25, 6)  # only the good one
    assert "   " not in json.dumps(row.channel_hotspots)  # blank channel ids are no channel

    for fmt in ("json", "table", "csv"):
        assert (
            main(
                ["report", "trends", "--org", str(bad), "--date", DAY.isoformat(), "--format", fmt]
            )
            == 0
        )
        shown = capsys.readouterr().out
        assert not re.search(r"\b(nan|-?inf(inity)?)\b", shown, re.IGNORECASE), shown
        if fmt == "json":
            json.loads(shown, parse_constant=_no_constants)
