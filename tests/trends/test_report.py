"""The `trends` report on rows the job wrote for D-1, D and D+1 of the hand-computed fixture.

Busy organization, worked out from fixture.py:
- D-1: 2 C09 complaints (neutral sentiment), 1 medium alert;
- D:   341 classifications, top topic billing (165), negative 128 of 328 toned = 39.02%,
       4 alerts, 8 hotspots;
- D+1: 2 C09 complaints (neutral), 1 critical alert.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from opsmetrics import runs
from opsmetrics.cli import main
from opsmetrics.config import Settings
from opsmetrics.errors import BadRequest, NotFound
from opsmetrics.reports.model import ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.trends.trends_report import COLUMNS
from tests.factories import org, record_run
from tests.trends import fixture as fx

D_1, D, D1 = date(2026, 3, 9), fx.D, date(2026, 3, 11)


@pytest.fixture
def three_days(db_env: Engine, settings: Settings) -> fx.Orgs:
    with db_env.begin() as conn:
        orgs = fx.load_day(conn)
    summary = runs.run(
        "daily-trend-aggregation",
        [D_1, D, D1],
        trigger="backfill",
        engine=db_env,
        settings=settings,
    )
    assert summary.ok
    return orgs


def _report(engine: Engine, **params: object) -> dict[str, object]:
    with engine.connect() as conn:
        return build(conn, "trends", ReportParams(**params)).to_dict()  # type: ignore[arg-type]


def test_one_organization_over_a_range(three_days: fx.Orgs, db_env: Engine) -> None:
    with db_env.connect() as conn:
        report = build(
            conn, "trends", ReportParams(org_id=three_days.busy, date_from=D_1, date_to=D1)
        )
    assert report.date == D1
    assert report.columns == COLUMNS
    assert [r["trend_date"] for r in report.rows] == [D_1, D, D1]
    first, mid, last = report.rows
    assert {k: first[k] for k in ("total_classifications", "top_topic", "escalations")} == {
        "total_classifications": 2,
        "top_topic": "complaint",
        "escalations": 1,
    }
    assert first["negative_share_pct"] == Decimal("0.00")  # 0 negative of 2 neutral
    assert first["hotspot_count"] == 0
    assert mid["organization"] == "Busy Ltd"
    assert mid["organization_id"] == str(three_days.busy)
    assert mid["total_classifications"] == 341
    assert mid["top_topic"] == "billing"
    assert mid["negative_share_pct"] == Decimal("39.02")  # 100 * 128 / 328 = 39.024...
    assert mid["escalations"] == 4
    assert mid["hotspot_count"] == 8
    assert mid["channel_hotspots"] == fx.BUSY_HOTSPOTS
    assert mid["topic_distribution"] == fx.BUSY_TOPICS
    # ranked for reading: billing 165, escalation 77, complaint 64, praise 13, question 10, ...
    assert list(mid["topic_distribution"])[:3] == ["billing", "escalation", "complaint"]
    assert mid["avg_confidence"] == pytest.approx(fx.BUSY_AVG_CONFIDENCE)
    assert last["escalation_counts"] == {"critical": 1}

    s = report.summary
    assert (s["days"], s["days_with_data"], s["organizations"]) == (3, 3, 1)
    assert s["total_classifications"] == 2 + 341 + 2
    assert s["escalations"] == 1 + 4 + 1
    assert s["hotspots"] == 8
    assert s["topic_distribution"]["complaint"] == 64 + 2 + 2
    assert s["top_topic"] == "billing"  # 165 > escalation 77 > complaint 68
    assert s["negative_share_pct"] == Decimal("38.55")  # 128 / (328 + 2 + 2) = 38.554...%
    assert s["escalation_counts"] == {"critical": 2, "high": 2, "low": 1, "medium": 1}


def test_default_range_is_the_week_ending_at_the_latest_day_computed(
    three_days: fx.Orgs, db_env: Engine
) -> None:
    report = _report(db_env, org_id=three_days.small)
    assert report["date"] == "2026-03-11"
    assert (report["date_from"], report["date_to"]) == ("2026-03-05", "2026-03-11")
    rows = report["rows"]
    assert isinstance(rows, list) and len(rows) == 3  # the job ran on 3 of the 7 days
    assert report["summary"]["days"] == 7  # type: ignore[index]
    # computed on 3 days, but only the middle one had classifications
    assert report["summary"]["days_with_data"] == 1  # type: ignore[index]
    assert report["summary"]["total_classifications"] == 0 + 3 + 0  # type: ignore[index]
    not_computed = ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]
    assert report["dates_not_computed"] == not_computed


def test_one_date_for_every_organization(three_days: fx.Orgs, db_env: Engine) -> None:
    report = _report(db_env, date=D)
    rows = report["rows"]
    assert isinstance(rows, list)
    assert [r["organization"] for r in rows] == ["Alerts Ltd", "Busy Ltd", "Quiet Ltd", "Small Ltd"]
    assert [r["total_classifications"] for r in rows] == [0, 341, 0, 3]
    quiet = rows[2]
    assert quiet["top_topic"] is None and quiet["negative_share_pct"] is None
    assert quiet["avg_confidence"] is None and quiet["channel_hotspots"] == []
    assert report["summary"]["organizations"] == 4  # type: ignore[index]


def test_a_range_without_rows_and_a_database_without_trends(db_env: Engine) -> None:
    with db_env.begin() as conn:
        acme = org(conn, "Acme")
    with pytest.raises(NotFound) as nothing:
        _report(db_env, org_id=acme)
    assert str(nothing.value).startswith("trends has no computed date on or before ")
    assert str(nothing.value).endswith(": run `opsmetrics run daily-trend-aggregation`")
    with pytest.raises(NotFound) as asked:
        _report(db_env, org_id=acme, date=D)
    assert str(asked.value) == (
        "trends for 2026-03-10 was not computed:"
        " run `opsmetrics run daily-trend-aggregation --date 2026-03-10`"
    )
    with db_env.begin() as conn:
        record_run(conn, "daily-trend-aggregation", D)
    # Computed, with nothing to count that day: a row-less report, not an error.
    computed = _report(db_env, org_id=acme, date=D)
    assert computed["date"] == "2026-03-10" and computed["rows"] == []
    assert computed["summary"]["total_classifications"] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": D1, "date_to": D_1}, "the range runs backwards"),
        ({"date": D, "date_from": D_1}, "not both"),
        ({"date_from": date(2025, 1, 1), "date_to": date(2026, 1, 2)}, "at most 366"),
    ],
)
def test_bad_ranges_are_bad_requests(
    db_env: Engine, params: dict[str, object], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        _report(db_env, **params)


def test_cli_json_csv_and_table(
    three_days: fx.Orgs, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "trends", "--org", str(three_days.busy), "--from", "2026-03-09"]
    base += ["--to", "2026-03-11"]

    assert main([*base, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"] == "trends" and doc["date"] == "2026-03-11"
    assert [r["total_classifications"] for r in doc["rows"]] == [2, 341, 2]
    assert doc["rows"][1]["channel_hotspots"][0] == {
        "channelId": "CALL",
        "riskScore": 100,
        "messageCount": 11,
    }
    assert doc["rows"][1]["negative_share_pct"] == 39.02
    assert doc["summary"]["total_classifications"] == 345

    assert main([*base, "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == COLUMNS
    assert [r[0] for r in table[1:]] == ["2026-03-09", "2026-03-10", "2026-03-11"]
    mid = dict(zip(COLUMNS, table[2], strict=True))
    assert mid["total_classifications"] == "341" and mid["top_topic"] == "billing"
    assert json.loads(mid["channel_hotspots"]) == fx.BUSY_HOTSPOTS

    assert main([*base, "--format", "table", "--limit", "1"]) == 0
    text_out = capsys.readouterr().out
    assert text_out.startswith("trends — 2026-03-09 to 2026-03-11")  # the range, both ends
    assert "total classifications: 345" in text_out
    assert "2026-03-09" in text_out and "2026-03-10  " not in text_out  # limited to one row


def test_cli_bad_report_requests_exit_2(
    three_days: fx.Orgs, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "trends", "--from", "2026-03-11", "--to", "2026-03-09"]) == 2
    assert "runs backwards" in capsys.readouterr().err
    assert main(["report", "trends", "--date", "2026-03-10", "--to", "2026-03-11"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["report", "trends", "--org", "00000000-0000-0000-0000-000000000000"]) == 2
    assert "unknown organization" in capsys.readouterr().err
