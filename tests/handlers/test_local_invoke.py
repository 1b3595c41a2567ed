"""`opsmetrics invoke FUNCTION --event FILE`: a handler run here with a sample event."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import main
from opsmetrics.errors import BadRequest
from opsmetrics.jobs import JOBS
from opsmetrics.local_invoke import LocalContext, available, check_event_shape, load_handler
from tests.factories import insert_rows, refusing_writes
from tests.handlers import data
from tests.handlers.conftest import EVENTS, FUNCTIONS, load_app


@pytest.fixture
def cli_env(db_env: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    return db_env


def test_invoke_prints_the_handlers_answer(
    cli_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_env.begin() as conn:
        data.trend_sources(conn)
    event = EVENTS / "daily_trend_aggregation" / "scheduler.json"

    code = main(["invoke", "daily_trend_aggregation", "--event", str(event)])

    out, err = capsys.readouterr()
    assert code == 0, err
    answer = json.loads(out)  # stdout holds the answer and nothing else
    assert (answer["job"], answer["status"], answer["trigger"]) == (
        "daily-trend-aggregation",
        "succeeded",
        "schedule",
    )
    assert [r["target_date"] for r in answer["runs"]] == ["2026-11-22"]
    assert answer["runs"][0]["result"]["organizations_processed"] == 2
    assert [(r["target_date"], r["trigger"]) for r in data.job_runs(cli_env)] == [
        (data.D, "schedule")
    ]


def test_job_name_is_accepted_for_the_folder(
    cli_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_env.begin() as conn:
        data.territory_sources(conn)
    event = EVENTS / "weekly_hiring_triggers" / "manual-date.json"

    code = main(["invoke", "weekly-hiring-triggers", "--event", str(event)])

    out, _ = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["runs"][0]["target_date"] == "2026-11-15"


def test_partial_run_exits_1_and_still_prints_the_summary(
    cli_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_env.begin() as conn:
        orgs = data.trend_sources(conn)
    event = EVENTS / "daily_trend_aggregation" / "scheduler.json"

    with refusing_writes(cli_env, "communication_trends", "organization_id", orgs["quiet"]):
        code = main(["invoke", "daily_trend_aggregation", "--event", str(event)])

    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["status"] == "partial"
    assert err.strip().splitlines()[-1] == (
        "opsmetrics invoke: daily-trend-aggregation partial: "
        "2026-11-22 partial (1 organization(s) failed)"
    )


@pytest.mark.parametrize(
    ("function", "content", "message"),
    [
        ("monthly_report", '{"date": "2026-11-20"}', "unknown function 'monthly_report'; one of:"),
        ("daily_trend_aggregation", '{"date": "2026-11-20"', "is not JSON"),
        ("daily_trend_aggregation", '{"date": "20-11-2026"}', "date must be a date"),
        ("daily_trend_aggregation", '{"when": "yesterday"}', "unrecognised event"),
    ],
)
def test_bad_requests_exit_2_and_write_nothing(
    cli_env: Engine,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    function: str,
    content: str,
    message: str,
) -> None:
    event = tmp_path / "event.json"
    event.write_text(content)

    code = main(["invoke", function, "--event", str(event)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert data.job_runs(cli_env) == []


def test_missing_event_file(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "daily_trend_aggregation", "--event", "/nonexistent/event.json"])
    assert code == 2
    assert "cannot read the event file /nonexistent/event.json" in capsys.readouterr().err


def test_unknown_function_lists_the_real_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "nope", "--event", "x.json"]) == 2
    err = capsys.readouterr().err
    for job in JOBS.values():
        assert job.folder in err, f"the unknown-function message does not name {job.folder}"


def test_help_and_messages_name_every_job_function(capsys: pytest.CaptureFixture[str]) -> None:
    """The job functions named by `invoke --help` and by the reports function's refusal of a
    job's event come from the job model: a new job shows there without editing them."""
    with pytest.raises(SystemExit):
        main(["invoke", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    with pytest.raises(BadRequest) as caught:
        check_event_shape("reports", "event.json", {"date": "2026-11-20"})
    for job in JOBS.values():
        assert f"{job.folder} |" in help_text, (
            f"`opsmetrics invoke --help` does not name {job.folder}: build the list from"
            " opsmetrics.jobs.JOBS (local_cli.py), never by hand"
        )
        assert job.folder in str(caught.value), (
            f"the reports function's refusal does not name {job.folder}: build the list from"
            " opsmetrics.jobs.JOBS (local_invoke.py), never by hand"
        )


def test_stand_in_context() -> None:
    context = LocalContext(function_name="daily-trend-aggregation", timeout_s=900)
    assert context.invoked_function_arn.endswith(":function:daily-trend-aggregation")
    # a fresh context has (almost) the whole timeout left, and never less than nothing
    assert 895_000 < context.get_remaining_time_in_millis() <= 900_000
    assert LocalContext(function_name="f", timeout_s=0).get_remaining_time_in_millis() == 0


def test_reports_sample_events(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """The HTTP API samples reach the reports handler as API Gateway would send them."""
    sample = json.loads((EVENTS / "reports" / "report-territories.json").read_text())
    org_id = sample["requestContext"]["authorizer"]["jwt"]["claims"]["org_id"]
    with cli_env.begin() as conn:
        insert_rows(conn, "organizations", [{"id": org_id, "name": "Sample"}])
    # the report sample names no date: it reads the latest its job computed (none: 404)
    assert "date" not in sample["queryStringParameters"]
    assert main(["run", "daily-territory-metrics", "--date", data.D.isoformat()]) == 0
    capsys.readouterr()
    statuses = {}
    for name in ("health", "report-territories", "refresh-trends"):
        code = main(["invoke", "reports", "--event", str(EVENTS / "reports" / f"{name}.json")])
        out, err = capsys.readouterr()
        assert code == 0, err
        statuses[name] = json.loads(out)["statusCode"]
    assert statuses["health"] == 200
    assert statuses["report-territories"] == 200
    assert 200 <= statuses["refresh-trends"] < 300
    # the refresh ran the trend job for the date in its query string, as an HTTP trigger
    assert [
        (r["job"], r["target_date"], r["trigger"])
        for r in data.job_runs(cli_env)
        if r["job"] == "daily-trend-aggregation"
    ] == [("daily-trend-aggregation", data.D, "http")]


def test_job_route_samples(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """The /jobs samples: an organization's catch-up runs for it alone, as an HTTP trigger; the
    operator's status then sees that run's job as fresh for nobody (it covered one org)."""
    sample = json.loads((EVENTS / "reports" / "jobs-catch-up.json").read_text())
    org_id = sample["requestContext"]["authorizer"]["jwt"]["claims"]["org_id"]
    with cli_env.begin() as conn:
        insert_rows(conn, "organizations", [{"id": org_id, "name": "Sample"}])
    answers = {}
    for name in ("jobs-catch-up", "jobs-status"):
        code = main(["invoke", "reports", "--event", str(EVENTS / "reports" / f"{name}.json")])
        out, err = capsys.readouterr()
        assert code == 0, err
        answers[name] = json.loads(out)
    assert answers["jobs-catch-up"]["statusCode"] == 200, answers["jobs-catch-up"]["body"]
    ran = json.loads(answers["jobs-catch-up"]["body"])
    assert (ran["job"], ran["trigger"], ran["org_id"]) == (
        "daily-trend-aggregation",
        "http",
        org_id,
    )
    assert [(r["trigger"], str(r["org_id"])) for r in data.job_runs(cli_env)] == [("http", org_id)]
    status = json.loads(answers["jobs-status"]["body"])
    trends = next(j for j in status["jobs"] if j["job"] == "daily-trend-aggregation")
    assert answers["jobs-status"]["statusCode"] == 200
    assert trends["stale"] is True  # a run for one organization does not cover everybody


def test_invoke_runs_the_handler_each_function_deploys() -> None:
    """`opsmetrics invoke` builds its handlers from the package, never from functions/: each
    folder there must be one it knows, and must deploy the very handler it builds."""
    folders = sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))
    assert available() == folders, (
        f"functions without functions/<folder>/app.py: {sorted(set(available()) - set(folders))}"
        " (copy another job's app.py, with its JOB); folders no job or the reports API owns:"
        f" {sorted(set(folders) - set(available()))}"
    )
    for name in available():
        deployed = inspect.unwrap(load_app(name).lambda_handler)
        built = inspect.unwrap(load_handler(name))
        assert deployed.__code__ is built.__code__, name
        assert inspect.getclosurevars(deployed).nonlocals == (
            inspect.getclosurevars(built).nonlocals
        ), name
