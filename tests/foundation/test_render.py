"""The one renderer behind the CLI and HTTP: JSON, CSV and the terminal table."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from opsmetrics.errors import BadRequest
from opsmetrics.reports.model import Report, ReportFreshness
from opsmetrics.reports.render import render, table_columns

ORG = uuid.UUID("00000000-0000-0000-0000-00000000000a")


def _report(**extra: object) -> Report:
    return Report(
        name="sample",
        date=date(2026, 11, 22),
        columns=["sector", "rate", "org_id", "dist"],
        rows=[
            {"sector": "SW1A 1", "rate": Decimal("3.13"), "org_id": ORG, "dist": {"a": 1}},
            {"sector": "M1 4", "rate": None, "org_id": ORG, "dist": {}},
        ],
        summary={"total_bookings": 32},
        extra=dict(extra),
    )


def test_json_keeps_numbers_as_numbers_and_ids_as_strings() -> None:
    doc = json.loads(render(_report(next_cursor=None), "json"))
    assert doc["report"] == "sample" and doc["date"] == "2026-11-22"
    assert doc["rows"][0] == {
        "sector": "SW1A 1",
        "rate": 3.13,
        "org_id": str(ORG),
        "dist": {"a": 1},
    }
    assert doc["next_cursor"] is None and doc["summary"] == {"total_bookings": 32}


def test_csv_has_every_column_with_json_cells() -> None:
    rows = list(csv.reader(io.StringIO(render(_report(), "csv"))))
    assert rows[0] == ["sector", "rate", "org_id", "dist"]
    assert rows[1] == ["SW1A 1", "3.13", str(ORG), '{"a":1}']
    assert rows[2] == ["M1 4", "", str(ORG), "{}"]


def test_table_leaves_ids_and_nested_json_to_csv() -> None:
    report = _report()
    assert table_columns(report) == ["sector", "rate"]
    text = render(report, "table")
    assert "org_id" not in text and str(ORG) not in text
    assert "total bookings: 32" in text
    assert text.splitlines()[3].split() == ["sector", "rate"]


@pytest.mark.parametrize(
    ("extra", "footer"),
    [
        ({"next_cursor": "abc"}, "more rows: --cursor abc"),
        ({"rows_total": 9}, "showing 2 of 9 rows"),
        ({"truncated": True}, "showing the first 2 rows"),
        ({"truncated": False}, None),
    ],
)
def test_table_says_when_rows_were_left_out(extra: dict[str, object], footer: str | None) -> None:
    last = render(_report(**extra), "table").rstrip("\n").splitlines()[-1]
    if footer is None:
        assert last.startswith("M1 4")
    else:
        assert footer in last


def test_unknown_format_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="format"):
        render(_report(), "xml")


def test_as_of_and_stale_in_json_and_the_table_header() -> None:
    # 04:00:12.345 at UTC+1 is 03:00:12 UTC; JSON says so to the second, with a Z.
    finished = datetime(2026, 11, 23, 4, 0, 12, 345678, tzinfo=timezone(timedelta(hours=1)))
    report = _report()
    weekly = "weekly-hiring-triggers"
    report.freshness = ReportFreshness(finished, True, weekly, date(2026, 11, 29))
    doc = json.loads(render(report, "json"))
    assert (doc["as_of"], doc["stale"]) == ("2026-11-23T03:00:12Z", True)
    lines = render(report, "table").splitlines()
    assert lines[:2] == [
        "sample — 2026-11-22 (as of 2026-11-23T03:00:12Z)",
        "  stale: yes: weekly-hiring-triggers has not computed 2026-11-29",
    ]
    report.freshness = ReportFreshness(finished, False, weekly, date(2026, 11, 22))
    assert render(report, "table").splitlines()[1] == "  stale: no"
    assert "as_of" not in render(report, "csv")  # CSV has nowhere to put them
    assert json.loads(render(_report(), "json"))["as_of"] is None  # a report without a ledger
