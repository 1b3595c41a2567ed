"""Bad numbers are bad rows (spec §8): a confidence that is not a finite number in [0, 1] is
left out of avg_confidence and counted; a blank channel id is no channel; one organization's bad
values never fail another's. Hand-computed, against PostgreSQL."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from opsmetrics.config import Settings
from opsmetrics.trends import values
from tests.factories import insert_rows, org
from tests.trends.helpers import run_day, trend_rows

DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)
SQL_NULL = object()
# Every shape of sentiment: only an object whose tone is a string that is not blank has a tone.
SENTIMENTS: list[Any] = [
    SQL_NULL,
    None,
    "negative",
    3,
    True,
    [],
    {},
    {"tone": None},
    {"tone": 3},
    {"tone": {}},
    {"tone": ["negative"]},
    {"tone": True},
    {"tone": ""},
    {"tone": "  "},
    {"tone": "\t\n"},
    {"tone": "\x0b\x0c\r"},
    # not white space to the SQL's \S (C.UTF-8), though str.strip() drops them
    {"tone": "\xa0"},
    {"tone": "\x85"},
    {"tone": "\x1c"},
    {"tone": "negative"},
    {"tone": " Negative "},
    {"mood": "negative"},
]
AWKWARD = [0.0, 0.5, 1.0, -0.0, 1.0000001, -1.0, 5.0, 1e308, -1e308, math.nan, math.inf, -math.inf]


def _row(
    org_id: Any, i: int, confidence: float | None, channel: str | None, topic: str
) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "channel_id": channel,
        "topic": topic,
        "sentiment": {"tone": "negative"},
        "confidence": confidence,
        "created_at": NOON + timedelta(seconds=i),
    }


def test_bad_confidences_and_blank_channels(db: Engine, settings: Settings) -> None:
    with db.begin() as conn:
        a, b, c = org(conn, "Alpha"), org(conn, "Bravo"), org(conn, "Charlie")
        rows = [
            # A: usable 0.5 and 1.0 (mean 0.75), NULL (absent), five bad ones
            *(
                _row(a, i, conf, "C1", "billing")
                for i, conf in enumerate([0.5, 1.0, None, math.nan, -1.0, 5.0, 1e308, math.inf])
            ),
            # B: two 1e308 (their sum overflows a double) and nothing usable
            _row(b, 20, 1e308, "C1", "billing"),
            _row(b, 21, 1e308, "C1", "billing"),
        ]
        # C: 12 complaints in each of three blank channels and one real one: only the real one
        # is a hotspot (12 of 12 flagged: riskScore 100)
        for n, blank in enumerate(["", "   ", "\t\n", "C9"]):
            rows += [_row(c, 100 + 20 * n + i, 0.9, blank, "complaint") for i in range(12)]
        insert_rows(conn, "topic_classifications", rows)

    summary = run_day(db, settings, DAY)
    assert summary.ok, summary.to_dict()
    stats = summary.runs[0].stats
    assert stats["bad_confidence"] == 5 + 2  # A: NaN, -1, 5, 1e308, inf; B: its two 1e308
    found = trend_rows(db, DAY)
    assert found[a]["avg_confidence"] == pytest.approx(0.75)
    assert found[a]["total_classifications"] == 8  # bad numbers are still classifications
    assert found[b]["avg_confidence"] is None
    assert found[c]["channel_hotspots"] == [
        {"channelId": "C9", "riskScore": 100, "messageCount": 12}
    ]
    # nothing stored can be NaN or Infinity: the rows read back as valid JSON
    with db.connect() as conn:
        doc = conn.execute(
            text("SELECT json_agg(t)::text FROM communication_trends t")
        ).scalar_one()
    json.loads(doc, parse_constant=lambda c: pytest.fail(f"{c} in the output"))


def test_sql_and_python_agree_on_every_awkward_value(db: Engine) -> None:
    with db.connect() as conn:
        for value in [*AWKWARD, None]:
            sql_says = conn.execute(
                text(
                    f"SELECT coalesce({values.usable_confidence_sql('CAST(:v AS float8)')}, false)"
                ),
                {"v": value},
            ).scalar_one()
            assert sql_says == values.usable_confidence(value), value
        for channel in [None, "", " ", "\t", "\n \r", "C1", " C1 "]:
            sql_channel = conn.execute(
                text(f"SELECT {values.channel_sql('CAST(:c AS text)')}"), {"c": channel}
            ).scalar_one()
            assert sql_channel == values.channel(channel), repr(channel)
        for sentiment in SENTIMENTS:
            sql_tone = conn.execute(
                text(
                    f"SELECT CASE WHEN {values.tone_is_valid_sql('CAST(:s AS jsonb)')}"
                    f" THEN {values.tone_text_sql('CAST(:s AS jsonb)')} END"
                ),
                {"s": None if sentiment is SQL_NULL else json.dumps(sentiment)},
            ).scalar_one()
            assert sql_tone == values.tone(None if sentiment is SQL_NULL else sentiment), sentiment


def test_a_stored_nan_from_before_is_never_shown(db: Engine) -> None:
    """Rows an older version wrote with avg_confidence NaN report null, so the JSON stays JSON."""
    from opsmetrics.reports.model import ReportParams
    from opsmetrics.reports.registry import build
    from opsmetrics.reports.render import render
    from tests.factories import record_run

    with db.begin() as conn:
        a = org(conn, "Alpha")
        insert_rows(
            conn,
            "communication_trends",
            [
                {
                    "organization_id": a,
                    "trend_date": DAY,
                    "trend_period": "daily",
                    "topic_distribution": {"billing": 1},
                    "sentiment_distribution": {},
                    "escalation_counts": {},
                    "channel_hotspots": [],
                    "total_classifications": 1,
                    "avg_confidence": math.nan,
                    "created_at": NOON,
                    "updated_at": NOON,
                }
            ],
        )
        record_run(conn, "daily-trend-aggregation", DAY)
    with db.connect() as conn:
        report = build(conn, "trends", ReportParams(org_id=a, date=DAY, today=DAY))
    doc = json.loads(render(report, "json"), parse_constant=lambda c: pytest.fail(c))
    assert doc["rows"][0]["avg_confidence"] is None
