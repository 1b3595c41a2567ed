"""The hotspot rule as the job applies it in SQL agrees with the pure functions, channel by
channel, over a grid of counts around every boundary; so do the job's count of hotspots and the
trends report's row and summary, which are built from what the job stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from opsmetrics.config import Settings
from opsmetrics.reports.model import ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.trends import hotspots
from opsmetrics.trends.hotspots import ChannelCounts
from tests.factories import org
from tests.trends import fixture as fx
from tests.trends.helpers import run_day, trend_rows

GRID: dict[int, list[int]] = {
    9: list(range(10)),
    10: list(range(11)),
    11: list(range(12)),
    20: list(range(21)),
    33: list(range(34)),
    200: [0, 59, 60, 61, 62, 99, 100, 101, 199, 200],
}


def test_sql_and_python_agree_on_every_channel_of_the_grid(db: Engine, settings: Settings) -> None:
    channels = [
        ChannelCounts(f"T{total:03d}F{flagged:03d}", flagged, total)
        for total, flags in GRID.items()
        for flagged in flags
    ]
    with db.begin() as conn:
        acme = org(conn, "Grid")
        # flagged rows alternate complaint/escalation; the rest are 'billing'
        conn.execute(
            text(
                """
                INSERT INTO topic_classifications
                    (organization_id, channel_id, topic, sentiment, confidence, created_at)
                SELECT :org, c.channel_id,
                       CASE WHEN i > c.flagged THEN 'billing'
                            WHEN mod(i, 2) = 0 THEN 'complaint' ELSE 'escalation' END,
                       '{"tone": "neutral"}', 0.5, :at
                FROM unnest(CAST(:ids AS text[]), CAST(:flagged AS int[]), CAST(:totals AS int[]))
                     AS c(channel_id, flagged, total),
                     generate_series(1, c.total) AS i
                """
            ),
            {
                "org": acme,
                "at": fx.NOON,
                "ids": [c.channel_id for c in channels],
                "flagged": [c.flagged for c in channels],
                "totals": [c.total for c in channels],
            },
        )
    summary = run_day(db, settings, fx.D)
    row = trend_rows(db)[acme]
    expected = hotspots.hotspots(channels)
    assert row["channel_hotspots"] == expected
    assert summary.runs[0].stats["hotspots"] == len(expected)
    with db.connect() as conn:
        report = build(
            conn, "trends", ReportParams(org_id=acme, date=fx.D, today=fx.D + timedelta(days=1))
        )
    [shown] = report.rows
    assert (shown["channel_hotspots"], shown["hotspot_count"]) == (expected, len(expected))
    assert report.summary["hotspots"] == len(expected)
    # The grid really straddles the boundaries: 10-message channels from 4 flagged, 20 from 7.
    names = {h["channelId"] for h in expected}
    assert "T010F004" in names and "T010F003" not in names
    assert "T020F007" in names and "T020F006" not in names
    assert "T009F009" not in names
    assert {"channelId": "T200F061", "riskScore": 31, "messageCount": 200} in expected
