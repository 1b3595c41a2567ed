"""The job model (opsmetrics.jobs.JOBS) is the one place a job's name, code folder and schedule
are written: template.yaml's function and schedule of each job, each handler's JOB, and the
docs' tables of jobs are checked against it, both ways (a job without a function fails, and so
does a scheduled function without a job)."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from opsmetrics.jobs import JOBS
from tests.infra import test_template as base
from tests.infra.samcli import ROOT

# The template fixtures of the structural checks (pytest finds fixtures by module attribute).
template = base.template
generated = base.generated

SCHEDULER_INPUT = {"scheduled_time": "<aws.scheduler.scheduled-time>"}
# The function that is no job's: the HTTP API.
NOT_A_JOB = "reports"


def _job_ids() -> list[str]:
    return sorted(JOBS)


def _scheduled_functions(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """logical id -> the ScheduleV2 events of every function that has one."""
    found: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        events = resource["Properties"].get("Events", {}).values()
        schedules = [e["Properties"] for e in events if e["Type"] == "ScheduleV2"]
        if schedules:
            found[logical_id] = schedules
    return found


def test_every_scheduled_function_is_a_job_and_every_job_is_scheduled(
    template: dict[str, Any],
) -> None:
    assert set(_scheduled_functions(template)) == {job.function_id for job in JOBS.values()}


@pytest.mark.parametrize("name", _job_ids())
def test_job_function(template: dict[str, Any], name: str) -> None:
    job = JOBS[name]
    assert job.function_id in template["Resources"], f"template.yaml has no {job.function_id}"
    fn = base.props(template, job.function_id)
    assert fn["CodeUri"] == job.code_uri
    assert template["Resources"][job.function_id]["Metadata"]["BuildMethod"] == "makefile"
    assert fn["ReservedConcurrentExecutions"] == 1  # one run at a time, ever
    assert fn["Timeout"] == base.LAMBDA_MAX_TIMEOUT_S
    # a runaway statement fails (and is recorded) before Lambda kills the process
    assert int(fn["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"]) < 900 * 1000

    (schedule,) = _scheduled_functions(template)[job.function_id]
    assert schedule["ScheduleExpression"] == job.schedule
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert json.loads(schedule["Input"]) == SCHEDULER_INPUT
    assert schedule["Input"] == '{"scheduled_time": "<aws.scheduler.scheduled-time>"}'
    assert schedule["DeadLetterConfig"] == {"Arn": base.getatt("ScheduleDeadLetterQueue", "Arn")}
    retry = schedule["RetryPolicy"]
    assert 1 <= retry["MaximumRetryAttempts"] <= 185
    assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400

    invoke = fn["EventInvokeConfig"]
    assert 0 <= invoke["MaximumRetryAttempts"] <= base.ASYNC_MAX_RETRIES
    assert 60 <= invoke["MaximumEventAgeInSeconds"] <= base.ASYNC_MAX_EVENT_AGE_S
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": base.getatt("JobFailureQueue", "Arn"),
    }

    log_group = fn["LoggingConfig"]["LogGroup"]["Ref"]
    assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert base.props(template, log_group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_alerts_topic_for_the_weekly_job_only_and_own_log_groups(template: dict[str, Any]) -> None:
    for job in JOBS.values():
        variables = base.props(template, job.function_id)["Environment"]["Variables"]
        if job.name == "weekly-hiring-triggers":
            assert variables["HIRING_ALERTS_TOPIC_ARN"] == {"Ref": "AlertsTopic"}
        else:
            assert "HIRING_ALERTS_TOPIC_ARN" not in variables, job.name
    functions = [*(job.function_id for job in JOBS.values()), "ReportsFunction"]
    groups = [base.props(template, f)["LoggingConfig"]["LogGroup"]["Ref"] for f in functions]
    assert len(set(groups)) == len(functions)


def _handler_job(folder: str) -> Any:
    """The JOB a functions/<folder>/app.py declares (the module run as Lambda imports it)."""
    return runpy.run_path(str(ROOT / "functions" / folder / "app.py"))["JOB"]


def test_each_code_folder_is_a_jobs_and_its_handler_names_that_job() -> None:
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    assert folders == {job.folder for job in JOBS.values()} | {NOT_A_JOB}
    for job in JOBS.values():
        assert _handler_job(job.folder) == job.name, job.folder


def test_code_folders_hold_no_requirements_file() -> None:
    for folder in (*(job.folder for job in JOBS.values()), NOT_A_JOB):
        files = {p.name for p in (ROOT / "functions" / folder).iterdir() if p.is_file()}
        assert "app.py" in files
        assert not {n for n in files if n.startswith("requirements")}, folder


def test_function_ids_follow_the_folders() -> None:
    job = replace(JOBS["daily-territory-metrics"], folder="nightly_thing")
    assert (job.function_id, job.code_uri) == ("NightlyThingFunction", "functions/nightly_thing/")


def _table_rows(page: Path, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header row starts with `header`."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows


def test_the_readme_lists_each_job_with_its_schedule() -> None:
    rows = _table_rows(ROOT / "README.md", "| job | schedule (UTC) |")
    assert {row[0]: row[1] for row in rows} == {j.name: j.schedule for j in JOBS.values()}


def test_the_calendar_page_lists_each_job_with_its_schedule_and_folder() -> None:
    rows = _table_rows(ROOT / "docs" / "calendar.md", "| job | cadence |")
    assert {row[0]: (row[1].split()[0], row[4], row[5]) for row in rows} == {
        j.name: (j.cadence, j.schedule, j.code_uri) for j in JOBS.values()
    }


@pytest.mark.slow
def test_generated_schedules(generated: dict[str, Any]) -> None:
    resources = generated["Resources"]
    schedules = {k: v for k, v in resources.items() if v["Type"] == "AWS::Scheduler::Schedule"}
    assert len(schedules) == len(JOBS)
    for job in JOBS.values():
        function = job.function_id
        (logical_id,) = [k for k in schedules if k.startswith(function)]
        schedule = schedules[logical_id]["Properties"]
        assert "Name" not in schedule  # generated names: two stacks never clash
        assert schedule["ScheduleExpression"] == job.schedule
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert target["Arn"] == base.getatt(function, "Arn")
        assert json.loads(target["Input"]) == SCHEDULER_INPUT
        assert target["DeadLetterConfig"] == {"Arn": base.getatt("ScheduleDeadLetterQueue", "Arn")}
        # the scheduler may invoke this function and write to the dead-letter queue, nothing else
        role = resources[target["RoleArn"]["Fn::GetAtt"][0]]
        assert sorted(map(repr, base.statements(role))) == sorted(
            map(
                repr,
                [
                    ("lambda:InvokeFunction", base.getatt(function, "Arn")),
                    ("sqs:SendMessage", base.getatt("ScheduleDeadLetterQueue", "Arn")),
                ],
            )
        )
        config = resources[f"{function}EventInvokeConfig"]["Properties"]
        assert config["Qualifier"] == "$LATEST"
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == base.getatt(
            "JobFailureQueue", "Arn"
        )
        assert resources[function]["Properties"]["ReservedConcurrentExecutions"] == 1
