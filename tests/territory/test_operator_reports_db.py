"""The weekly reports as an operator reads them on the demo data, through the command line:
the most urgent triggers first whatever their region, counts over every trigger, whose rows
they are, yes/no; and a weekly run whose alerts could not be sent says why in the ledger."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import main
from opsmetrics.territory import alerts
from opsmetrics.territory.figures import read_figures
from opsmetrics.territory.triggers import count_by_severity, evaluate
from tests.factories import job_runs

SUNDAY = date(2026, 11, 22)
FIRST = SUNDAY - timedelta(weeks=3)


@pytest.fixture
def demo_weeks(db_env: Engine, capsys: pytest.CaptureFixture[str]) -> Iterator[Engine]:
    """Demo data up to SUNDAY and the weekly job over its last four Sundays, as the demo does."""
    assert main(["seed", "--scale", "demo", "--anchor-date", SUNDAY.isoformat()]) == 0
    argv = ["run", "weekly-hiring-triggers", "--from", FIRST.isoformat(), "--to", str(SUNDAY)]
    assert main(argv) == 0
    capsys.readouterr()
    yield db_env


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["report", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_first_page_holds_the_most_urgent_triggers_of_every_region(
    demo_weeks: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with demo_weeks.connect() as conn:
        everything = evaluate(read_figures(conn, SUNDAY))  # the pure rules, most urgent first
    doc = _report(capsys, "hiring-triggers", "--limit", "20")
    assert doc["summary"] == count_by_severity(everything)  # every trigger counted
    shown = [{k: v for k, v in row.items() if k != "organization"} for row in doc["rows"]]
    assert shown == [t.to_dict() for t in everything[:20]]
    # the page is urgency's, not the alphabet's: critical streaks from several regions
    assert len({row["region"] for row in shown}) > 1
    assert {row["severity"] for row in shown} == {"critical"}
    # grouped for display: every region with triggers, the first one with some on the page
    groups = doc["by_region"]
    assert groups[0]["triggers"]
    assert sum(g["total"] for g in groups) == doc["summary"]["total"]
    assert sum(len(g["triggers"]) for g in groups) == 20
    assert doc["truncated"] is True


def test_every_organization_rows_name_their_organization_and_tables_say_yes_or_no(
    demo_weeks: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "daily-territory-metrics", "--date", str(SUNDAY)]) == 0
    capsys.readouterr()
    assert main(["report", "territories", "--date", str(SUNDAY), "--limit", "5"]) == 0
    table = capsys.readouterr().out.splitlines()
    header = next(line for line in table if line.startswith("territory_id") or "postcode" in line)
    assert header.split()[-1] == "organization"
    rows = table[table.index(header) + 2 :]
    staffing = ("Capital Event Medics", "Northern Medical Staffing", "Britannia Medical Cover")
    shown = [row for row in rows if not row.startswith("  ")]  # the footer is indented
    assert shown and all(row.rstrip().endswith(staffing) for row in shown)
    assert main(["report", "coverage-gaps", "--date", str(SUNDAY), "--limit", "3"]) == 0
    gaps = capsys.readouterr().out
    assert "True" not in gaps and "False" not in gaps
    assert " yes " in gaps  # minimum_volume_met


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_partial_weekly_run_records_why_in_the_ledger(
    demo_weeks: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SNS unreachable: the counters are committed, the run is partial, and job_runs.error (not
    only the log) says which alerts were not sent and why."""
    monkeypatch.setenv("HIRING_ALERTS_TOPIC_ARN", "arn:aws:sns:eu-west-2:123456789012:hiring")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    alerts.sns_client.cache_clear()
    try:
        code = main(["run", "weekly-hiring-triggers", "--date", str(SUNDAY)])
    finally:
        alerts.sns_client.cache_clear()
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    [partial] = [r for r in job_runs(demo_weeks) if r["status"] == "partial"]
    error = partial["error"] or ""
    assert error.startswith("hiring alerts not published for 3 of 3 organizations")
    assert "SNS: EndpointConnectionError" in error and "127.0.0.1" in error
    assert f"weekly-hiring-triggers {SUNDAY} partial: {error}" in out
    assert main(["runs", "--status", "partial", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert [r["error"] for r in listed] == [error]
