"""The command line end to end: `opsmetrics run daily-trend-aggregation` and bad requests."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import main
from tests.factories import job_runs as ledger
from tests.trends import fixture as fx
from tests.trends.helpers import trend_rows


@pytest.fixture
def orgs(db_env: Engine) -> fx.Orgs:
    with db_env.begin() as conn:
        return fx.load_day(conn)


def test_run_for_a_date_writes_every_organization(
    orgs: fx.Orgs, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "daily-trend-aggregation", "--date", "2026-03-10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("daily-trend-aggregation 2026-03-10 succeeded: ")
    assert "organizations_processed 4" in out and "malformed_sentiment 13" in out
    rows = trend_rows(db_env)
    assert set(rows) == set(orgs.all())
    assert rows[orgs.busy]["channel_hotspots"] == fx.BUSY_HOTSPOTS


def test_backfill_runs_the_days_in_order_with_a_progress_bar(
    orgs: fx.Orgs, db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "daily-trend-aggregation", "--from", "2026-03-09", "--to", "2026-03-11", "--json"]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "3/3 2026-03-11 succeeded" in captured.err
    summary = json.loads(captured.out)
    assert [r["target_date"] for r in summary["runs"]] == ["2026-03-09", "2026-03-10", "2026-03-11"]
    assert [(e["target_date"].isoformat(), e["trigger"]) for e in ledger(db_env)] == [
        ("2026-03-09", "backfill"),
        ("2026-03-10", "backfill"),
        ("2026-03-11", "backfill"),
    ]
    # D-1 for busy: the two off-day C09 complaints at 23:00 and 23:59:59.999999 UTC.
    busy_before = trend_rows(db_env, fx.D.replace(day=9))[orgs.busy]
    assert busy_before["topic_distribution"] == {"complaint": 2}
    assert busy_before["escalation_counts"] == {"medium": 1}
    # D+1 for busy: the C09 complaints at 00:00 and 00:30 UTC; the critical alert at 00:00.
    busy_after = trend_rows(db_env, fx.D.replace(day=11))[orgs.busy]
    assert busy_after["total_classifications"] == 2
    assert busy_after["escalation_counts"] == {"critical": 1}
    assert trend_rows(db_env, fx.D)[orgs.busy]["total_classifications"] == fx.BUSY_TOTAL


def test_org_option_limits_the_run(orgs: fx.Orgs, db_env: Engine) -> None:
    assert (
        main(["run", "daily-trend-aggregation", "--date", "2026-03-10", "--org", str(orgs.small)])
        == 0
    )
    assert list(trend_rows(db_env)) == [orgs.small]


def _exit_code(argv: list[str]) -> int:
    """main()'s return value, or the code argparse exits with for a malformed argument."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-03-10", "--org", str(uuid.UUID(int=7))], "unknown organization"),
        (["--date", "2026-03-10", "--org", "acme"], "organization id must be a UUID"),
        (["--date", "2026-02-30"], "date must be a date as YYYY-MM-DD"),
        (["--date", "10/03/2026"], "date must be a date as YYYY-MM-DD"),
        (["--from", "2026-03-11", "--to", "2026-03-09"], "the range runs backwards"),
        (["--from", "2026-03-09"], "a range needs both from and to"),
        (["--date", "2026-03-10", "--from", "2026-03-09", "--to", "2026-03-10"], "not both"),
    ],
)
def test_bad_requests_exit_2_with_one_line_and_change_nothing(
    orgs: fx.Orgs,
    db_env: Engine,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert _exit_code(["run", "daily-trend-aggregation", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert ledger(db_env) == []
    assert trend_rows(db_env) == {}
