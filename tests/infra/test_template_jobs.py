"""The job model (opsmetrics.jobs.JOBS) is the one place a job's name, code folder and schedule
are written: template.yaml's function and schedule of each job, each handler's JOB, and the
docs' tables of jobs are checked against it, both ways (a job without a function fails, and so
does a scheduled function without a job)."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from opsmetrics.errors import BadRequest
from opsmetrics.events import parse_event
from opsmetrics.jobs import JOBS
from tests.infra import test_template as base
from tests.infra.samcli import ROOT

# The template fixtures of the structural checks (pytest finds fixtures by module attribute).
template = base.template
generated = base.generated

SCHEDULER_INPUT = {"scheduled_time": "<aws.scheduler.scheduled-time>"}
# The function that is no job's: the HTTP API.
NOT_A_JOB = "reports"
EVENTS = ROOT / "infra" / "events"


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
    scheduled = set(_scheduled_functions(template))
    expected = {job.function_id for job in JOBS.values()}
    assert scheduled == expected, (
        f"jobs without a scheduled function in template.yaml: {sorted(expected - scheduled)}"
        " (copy another job's section); scheduled functions of no job in"
        f" opsmetrics/jobs.py: {sorted(scheduled - expected)}"
    )


@pytest.mark.parametrize("name", _job_ids())
def test_job_function(template: dict[str, Any], name: str) -> None:
    job = JOBS[name]
    fn = base.props(template, job.function_id)
    assert fn["CodeUri"] == job.code_uri
    assert base.resource(template, job.function_id)["Metadata"]["BuildMethod"] == "makefile"
    assert fn["ReservedConcurrentExecutions"] == 1  # one run at a time, ever
    assert fn["Timeout"] == base.LAMBDA_MAX_TIMEOUT_S
    # a runaway statement fails (and is recorded) before Lambda kills the process
    assert int(fn["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"]) < 900 * 1000

    event = base.schedule_event(job)
    assert fn.get("Events", {}).get(event, {}).get("Type") == "ScheduleV2", (
        f"{job.name}: {job.function_id} needs a ScheduleV2 event named {event} (its cadence):"
        f" SAM names the schedule {job.function_id}{event}"
    )
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
    assert log_group == f"{base.job_prefix(job)}LogGroup", f"{job.name}: its log group's id"
    assert base.resource(template, log_group)["Type"] == "AWS::Logs::LogGroup"
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
    expected = {job.folder for job in JOBS.values()} | {NOT_A_JOB}
    assert folders == expected, (
        f"jobs without functions/<folder>/app.py: {sorted(expected - folders)} (copy another"
        f" job's app.py and set its JOB); code folders of no job: {sorted(folders - expected)}"
    )
    for job in JOBS.values():
        assert _handler_job(job.folder) == job.name, (
            f"functions/{job.folder}/app.py: its JOB must be {job.name!r}"
        )


def test_code_folders_hold_no_requirements_file() -> None:
    for folder in (*(job.folder for job in JOBS.values()), NOT_A_JOB):
        path = ROOT / "functions" / folder
        files = {p.name for p in path.iterdir() if p.is_file()} if path.is_dir() else set()
        assert "app.py" in files, f"functions/{folder}/ has no app.py"
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
    expected = {j.name: j.schedule for j in JOBS.values()}
    assert {row[0]: row[1] for row in rows} == expected, (
        f"README.md's table of jobs (| job | schedule (UTC) |) must list each job: {expected}"
    )


def test_the_calendar_page_lists_each_job_with_its_schedule_and_folder() -> None:
    rows = _table_rows(ROOT / "docs" / "calendar.md", "| job | cadence |")
    expected = {j.name: (j.cadence, j.schedule, j.code_uri) for j in JOBS.values()}
    assert {row[0]: (row[1].split()[0], row[4], row[5]) for row in rows} == expected, (
        "docs/calendar.md's job model (| job | cadence | ...) must list each job with its"
        f" cadence, schedule and code folder: {expected}"
    )


def test_the_serverless_page_lists_each_jobs_function_and_schedule() -> None:
    rows = _table_rows(ROOT / "docs" / "serverless.md", "| function | job | cron |")
    listed = {row[0]: (row[1], row[2]) for row in rows}
    expected = {j.function_id: (j.name, j.schedule) for j in JOBS.values()}
    assert listed == expected, (
        "docs/serverless.md's table of schedules (| function | job | cron | target |) must"
        f" have one row per job of opsmetrics/jobs.py: {expected}"
    )


@pytest.mark.parametrize("name", _job_ids())
def test_each_job_function_has_its_output(template: dict[str, Any], name: str) -> None:
    job = JOBS[name]
    output = f"{job.function_id}Name"
    assert template["Outputs"].get(output) == {"Value": {"Ref": job.function_id}}, (
        f"{job.name}: template.yaml's Outputs need {output}: {{Value: !Ref {job.function_id}}},"
        " like the other jobs'"
    )


def test_function_name_outputs_belong_to_functions(template: dict[str, Any]) -> None:
    named = {k for k in template["Outputs"] if k.endswith("FunctionName")}
    functions = {f"{f}Name" for f in base.ALL_FUNCTIONS}
    assert named == functions, (
        f"Outputs of no function: {sorted(named - functions)}; functions without their"
        f" <id>Name output: {sorted(functions - named)}"
    )


# The sample events tick on Monday 2026-11-23 (tests/handlers/data.py): valid for every job.
SAMPLES_TODAY = date(2026, 11, 23)


def test_sample_event_folders_are_the_functions() -> None:
    folders = {p.name for p in EVENTS.iterdir() if p.is_dir()}
    expected = {job.folder for job in JOBS.values()} | {NOT_A_JOB}
    assert folders == expected, (
        f"jobs without sample events: {sorted(expected - folders)} (add infra/events/<folder>/"
        "scheduler.json, scheduled-rule.json, manual-date.json and backfill-range.json, as the"
        f" other jobs have); folders of no function: {sorted(folders - expected)}"
    )


@pytest.mark.parametrize("name", _job_ids())
def test_each_jobs_sample_events_are_accepted_and_one_is_scheduled(name: str) -> None:
    job = JOBS[name]
    folder = EVENTS / job.folder
    samples = sorted(folder.glob("*.json"))
    triggers = {}
    for sample in samples:
        event = json.loads(sample.read_text(encoding="utf-8"))
        try:
            triggers[sample.name] = parse_event(job.name, event, SAMPLES_TODAY).trigger
        except BadRequest as exc:
            pytest.fail(f"{sample.relative_to(ROOT)}: not an event {job.name} accepts: {exc}")
    assert "schedule" in triggers.values(), (
        f"{job.name}: infra/events/{job.folder}/ needs a scheduled sample event (scheduler.json:"
        ' {"scheduled_time": "2026-11-23T03:00:00Z"}, as the other jobs have), for `sam local'
        f" invoke -e` and `opsmetrics invoke {job.folder} --event`; found {triggers}"
    )


@pytest.mark.slow
def test_generated_schedules(generated: dict[str, Any]) -> None:
    resources = generated["Resources"]
    schedules = {k: v for k, v in resources.items() if v["Type"] == "AWS::Scheduler::Schedule"}
    assert len(schedules) == len(JOBS), f"schedules: {sorted(schedules)}, jobs: {sorted(JOBS)}"
    for job in JOBS.values():
        function = job.function_id
        logical_id = f"{function}{base.schedule_event(job)}"
        assert logical_id in schedules, f"{job.name}: SAM generated no schedule {logical_id}"
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
        role = base.generated_resource(resources, target["RoleArn"]["Fn::GetAtt"][0])
        assert sorted(map(repr, base.statements(role))) == sorted(
            map(
                repr,
                [
                    ("lambda:InvokeFunction", base.getatt(function, "Arn")),
                    ("sqs:SendMessage", base.getatt("ScheduleDeadLetterQueue", "Arn")),
                ],
            )
        )
        config = base.generated_resource(resources, f"{function}EventInvokeConfig")["Properties"]
        assert config["Qualifier"] == "$LATEST"
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == base.getatt(
            "JobFailureQueue", "Arn"
        )
        fn = base.generated_resource(resources, function)
        assert fn["Properties"]["ReservedConcurrentExecutions"] == 1
