"""template.yaml's structure: schedules, retries, dead letters, concurrency, alarms, the HTTP
API's authorization, and (from the template SAM actually generates) the IAM scope."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
import yaml

from opsmetrics.config import Settings
from opsmetrics.jobs import JOBS, Job
from opsmetrics.reports.route_model import Route
from opsmetrics.reports.routes import ROUTES
from tests.infra.samcli import ROOT, TEMPLATE, sam_env, sam_python

# The job functions' logical ids, from the job model (their own checks: test_template_jobs.py).
JOB_FUNCTIONS = [job.function_id for job in JOBS.values()]
ALL_FUNCTIONS = [*JOB_FUNCTIONS, "ReportsFunction"]
LAMBDA_MAX_TIMEOUT_S = 900
# Lambda's own bounds for asynchronous invocations (EventInvokeConfig).
ASYNC_MAX_RETRIES = 2
ASYNC_MAX_EVENT_AGE_S = 21600


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, !If ...) as their long form."""


def _tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)
    return loaded


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = template["Resources"].get(logical_id)
    assert found is not None, f"template.yaml has no resource {logical_id}{_whose(logical_id)}"
    return found


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(resource(template, logical_id)["Properties"])


def job_prefix(job: Job) -> str:
    """What a job's logical ids start with: DailyTerritoryMetrics (Job.function_id's stem)."""
    return job.function_id.removesuffix("Function")


def schedule_event(job: Job) -> str:
    """The name of a job function's ScheduleV2 event: its cadence (Daily, Weekly). SAM names the
    schedule and its role after it."""
    return job.cadence.title()


def _owner(logical_id: str) -> Job | None:
    """The job whose resource this is (its id starts with the job's stem), if any."""
    return next((job for job in JOBS.values() if logical_id.startswith(job_prefix(job))), None)


def section_hint(job: Job) -> str:
    """What a job's section of template.yaml holds."""
    return (
        f"job {job.name} needs its section in template.yaml, a copy of another job's with"
        f" {job.function_id} (CodeUri: {job.code_uri}, a ScheduleV2 event {schedule_event(job)}"
        f" with {job.schedule}), {job_prefix(job)}LogGroup and its Errors, Duration and"
        " Throttles alarms (docs/house.md, Add a job)"
    )


def _whose(logical_id: str) -> str:
    """For a missing job resource: which job's, and what its section of template.yaml needs."""
    job = _owner(logical_id)
    return f": {section_hint(job)}" if job else ""


def getatt(resource: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, attribute]}


def test_globals(template: dict[str, Any]) -> None:
    fn = template["Globals"]["Function"]
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "app.lambda_handler"
    assert fn["Layers"] == [{"Ref": "DependenciesLayer"}]
    assert 0 < fn["Timeout"] <= LAMBDA_MAX_TIMEOUT_S
    env = fn["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "opsmetrics"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Opsmetrics"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert env["DB_SECRET_ARN"] == {"Ref": "DatabaseSecretArn"}
    # credentials come from the secret, never the template (empty: a hook for sam local invoke)
    assert env["DATABASE_URL"] == ""
    # the catch-up horizon of scheduled runs (spec §7) is the documented default
    assert int(env["OPSMETRICS_CATCHUP_DAYS"]) == Settings().catchup_days
    # VPC only when subnets are given
    assert fn["VpcConfig"]["Fn::If"][0] == "UseVpc"
    assert fn["VpcConfig"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_parameters_and_conditions(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["DatabaseSecretArn"]["Type"] == "String"
    assert "Default" not in params["DatabaseSecretArn"]  # must be given
    assert params["SubnetIds"]["Default"] == params["SecurityGroupIds"]["Default"] == ""
    assert params["AlertEmail"]["Default"] == ""
    assert {"JwtIssuer", "JwtAudience", "LogRetentionDays"} <= set(params)
    assert set(template["Conditions"]) >= {"UseVpc", "HasAlertEmail"}
    subscription = template["Resources"]["AlertEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlertsTopic"}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}


def test_layer(template: dict[str, Any]) -> None:
    layer = template["Resources"]["DependenciesLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    makefile = ROOT / layer["Metadata"]["ContextPath"] / "Makefile"
    text = makefile.read_text()
    assert "build-DependenciesLayer:" in text
    for flag in ("--platform", "--python-version", "--only-binary=:all:", "--target"):
        assert flag in text
    layer_props = layer["Properties"]
    assert layer_props["CompatibleRuntimes"] == ["python3.13"]
    assert layer_props["CompatibleArchitectures"] == ["arm64"]
    # third-party packages only (test_sam_build checks the built layer): its folder holds the
    # requirements, not the opsmetrics package
    assert layer_props["ContentUri"] == "infra/layer/"


def test_functions_build_with_the_package(template: dict[str, Any]) -> None:
    """Each function's build copies the opsmetrics package beside its handler."""
    for logical_id in ALL_FUNCTIONS:
        metadata = resource(template, logical_id)["Metadata"]
        assert metadata == {"BuildMethod": "makefile", "ContextPath": "infra/functions"}, (
            f"{logical_id}: Metadata must be BuildMethod: makefile, ContextPath: infra/functions"
        )
    makefile = (ROOT / "infra" / "functions" / "Makefile").read_text()
    assert "\nbuild-%:" in makefile  # one target for every function, whatever its id
    assert "shared/opsmetrics" in makefile


def test_alarms_cover_every_function_and_queue(template: dict[str, Any]) -> None:
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    errors = {
        a["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", "Errors")
    }
    queues = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if (a["Namespace"], a["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    }
    # the API's own 5xx: answers the function returned (a failed refresh, 503) never raise
    api_5xx = {
        a["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if (a["Namespace"], a["MetricName"], a["Dimensions"][0]["Name"])
        == ("AWS/ApiGateway", "5xx", "ApiId")
    }
    assert errors == set(ALL_FUNCTIONS), (
        f"functions without an Errors alarm: {sorted(set(ALL_FUNCTIONS) - errors)} (add"
        " <Job>ErrorsAlarm like the other jobs'); alarms on no function of the model:"
        f" {sorted(errors - set(ALL_FUNCTIONS))}"
    )
    assert queues == {"ScheduleDeadLetterQueue", "JobFailureQueue"}
    assert api_5xx == {"ReportsApi"}
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        if alarm["MetricName"] != "Duration":
            assert alarm["Threshold"] == 1  # one failure is enough to page
    # every job function: a run near its timeout, and a throttled invocation, page too
    for metric in ("Duration", "Throttles"):
        watched = {
            a["Dimensions"][0]["Value"]["Ref"]
            for a in alarms
            if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", metric)
        }
        assert watched == set(JOB_FUNCTIONS), (
            f"job functions without a {metric} alarm: {sorted(set(JOB_FUNCTIONS) - watched)} (add"
            f" <Job>{metric}Alarm like the other jobs'); {metric} alarms on no job's function:"
            f" {sorted(watched - set(JOB_FUNCTIONS))}"
        )
    for alarm in alarms:
        if alarm["MetricName"] == "Duration":
            assert alarm["Statistic"] == "Maximum"
            assert 0 < alarm["Threshold"] < LAMBDA_MAX_TIMEOUT_S * 1000


def test_alerts_topic_encrypted_with_a_key_cloudwatch_may_use(template: dict[str, Any]) -> None:
    topic = props(template, "AlertsTopic")
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    key = props(template, "AlertsKey")
    assert key["EnableKeyRotation"] is True
    services = {
        st["Principal"].get("Service"): set(st["Action"])
        for st in key["KeyPolicy"]["Statement"]
        if "Service" in st["Principal"]
    }
    assert services == {"cloudwatch.amazonaws.com": {"kms:Decrypt", "kms:GenerateDataKey*"}}
    weekly = props(template, "WeeklyHiringTriggersFunction")["Policies"]
    kms = [p for p in weekly if isinstance(p, dict) and "Statement" in p]
    assert kms and kms[0]["Statement"][0]["Resource"] == getatt("AlertsKey", "Arn")


def test_access_logs_and_tags(template: dict[str, Any]) -> None:
    api = props(template, "ReportsApi")
    logs = api["AccessLogSettings"]
    assert logs["DestinationArn"] == getatt("ReportsApiAccessLogGroup", "Arn")
    for field in ("$context.requestId", "$context.status", "$context.routeKey", "org_id"):
        assert field in logs["Format"]
    group = props(template, "ReportsApiAccessLogGroup")
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    stage = {"Ref": "Stage"}
    assert template["Parameters"]["Stage"]["Default"] == "prod"
    assert template["Globals"]["Function"]["Tags"] == {"project": "opsmetrics", "stage": stage}
    assert api["Tags"] == {"project": "opsmetrics", "stage": stage}
    for logical_id in ("AlertsTopic", "AlertsKey", "ScheduleDeadLetterQueue", "JobFailureQueue"):
        tags = {t["Key"]: t["Value"] for t in props(template, logical_id)["Tags"]}
        assert tags == {"project": "opsmetrics", "stage": stage}, logical_id


def test_http_api_limits(template: dict[str, Any]) -> None:
    """Every route throttled by API Gateway; the per-organization run limit is a parameter whose
    default is the code's."""
    limits = props(template, "ReportsApi")["DefaultRouteSettings"]
    assert limits == {
        "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
    }
    params = template["Parameters"]
    assert 0 < params["ApiRateLimit"]["Default"] <= params["ApiBurstLimit"]["Default"]
    env = props(template, "ReportsFunction")["Environment"]["Variables"]
    assert env["OPSMETRICS_HTTP_RUNS_PER_MINUTE"] == {"Ref": "HttpRunsPerMinute"}
    assert params["HttpRunsPerMinute"]["Default"] == Settings().http_runs_per_minute


def test_reports_http_api(template: dict[str, Any]) -> None:
    auth = props(template, "ReportsApi")["Auth"]
    assert auth["DefaultAuthorizer"] == "ReportsJwtAuthorizer"
    jwt = auth["Authorizers"]["ReportsJwtAuthorizer"]
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    assert jwt["JwtConfiguration"] == {
        "issuer": {"Ref": "JwtIssuer"},
        "audience": {"Ref": "JwtAudience"},
    }
    fn = props(template, "ReportsFunction")
    assert fn["CodeUri"] == "functions/reports/"
    # Past the authorizer on purpose, and nothing else: the dashboard page and its files (the
    # page signs in itself), liveness, and the API's own description.
    public = {
        path
        for (_, path), (authorizer, _) in declared_events(template).items()
        if authorizer == "NONE"
    }
    assert public == {"/", "/assets/{file}", "/health", "/openapi.json"}


Events = dict[tuple[str, str], tuple[str, tuple[str, ...]]]


def declared_events(template: dict[str, Any]) -> Events:
    """(method, path) -> (authorizer, scopes) of the reports function's events."""
    declared: Events = {}
    for event in props(template, "ReportsFunction")["Events"].values():
        assert event["Type"] == "HttpApi"  # no schedule
        p = event["Properties"]
        assert p["ApiId"] == {"Ref": "ReportsApi"}
        auth = p["Auth"]
        declared[(p["Method"], p["Path"])] = (
            auth["Authorizer"],
            tuple(auth.get("AuthorizationScopes", [])),
        )
    return declared


def expected_events(routes: Iterable[Route]) -> Events:
    """The events the routing table needs: API Gateway forwards only the routes it declares.
    Report routes share one event per shape ({name} for the report); a route with a scope is
    behind the JWT authorizer with that scope, one without is public."""
    expected: Events = {}
    for route in routes:
        path = route.path
        if route.report is not None:
            path = path.replace(f"/reports/{route.report}", "/reports/{name}", 1)
        auth = ("ReportsJwtAuthorizer", (route.scope,)) if route.scope else ("NONE", ())
        shared = expected.setdefault((route.method, path), auth)
        assert shared == auth, f"{route.method} {path}: one event, two scopes {shared} {auth}"
    return expected


def route_mismatches(template: dict[str, Any], routes: Iterable[Route]) -> list[str]:
    expected, declared = expected_events(routes), declared_events(template)
    found = [
        f"{method} {path}: in the routing table, no HttpApi event in template.yaml"
        for method, path in expected.keys() - declared.keys()
    ]
    found += [
        f"{method} {path}: an HttpApi event of template.yaml that no route serves"
        for method, path in declared.keys() - expected.keys()
    ]
    found += [
        f"{key[0]} {key[1]}: template.yaml says {declared[key]}, the routing table {expected[key]}"
        for key in expected.keys() & declared.keys()
        if declared[key] != expected[key]
    ]
    return sorted(found)


def test_every_route_of_the_table_has_its_http_api_event_and_no_more(
    template: dict[str, Any],
) -> None:
    found = route_mismatches(template, ROUTES)
    assert not found, "\n".join(
        [
            "add each route's HttpApi event to ReportsFunction in template.yaml (same method,"
            " path and scope; a public route with Authorizer: NONE), and remove an event no"
            " route serves:",
            *found,
        ]
    )


def test_a_route_added_without_its_event_fails_the_check(template: dict[str, Any]) -> None:
    """The check above, on routing tables one change away from the real one (what the real one
    lacks, if anything, is the check above's to report)."""
    real = route_mismatches(template, ROUTES)

    def added(routes: list[Route]) -> list[str]:
        return [m for m in route_mismatches(template, routes) if m not in real]

    status = next(r for r in ROUTES if r.path == "/jobs/status")
    new_route = replace(status, path="/jobs/calendar", operation_id="get_job_calendar")
    assert added([*ROUTES, new_route]) == [
        "GET /jobs/calendar: in the routing table, no HttpApi event in template.yaml"
    ]
    rescoped = [replace(r, scope="jobs:run") if r is status else r for r in ROUTES]
    assert added(rescoped) == [
        "GET /jobs/status: template.yaml says ('ReportsJwtAuthorizer', ('jobs:read',)), the"
        " routing table ('ReportsJwtAuthorizer', ('jobs:run',))"
    ]
    assert added([r for r in ROUTES if r is not status]) == [
        "GET /jobs/status: an HttpApi event of template.yaml that no route serves"
    ]
    # a new report needs no event of its own: /reports/{name} serves it
    report = next(r for r in ROUTES if r.report is not None)
    other = replace(
        report, path=report.path.replace(report.report or "", "staffing"), report="staffing"
    )
    assert added([*ROUTES, other]) == []


# Every resource's logical id. CloudFormation replaces a resource whose id changes (a new
# function, alarm or queue, the old one deleted): a deployed stack updates in place only while
# these stay. A job's ids are a function of its folder (Job.function_id), so a new job adds its
# own here by itself; the jobs already deployed are pinned by name (renaming a job's folder
# would replace its function). Any other id is listed: add one only with the resource it names.
JOB_RESOURCES = ("Function", "LogGroup", "ErrorsAlarm", "DurationAlarm", "ThrottlesAlarm")
DEPLOYED_JOB_FUNCTIONS = {
    "DailyTerritoryMetricsFunction",
    "WeeklyHiringTriggersFunction",
    "DailyTrendAggregationFunction",
}
OTHER_IDS = {
    "DependenciesLayer",
    "ReportsApi",
    "ReportsFunction",
    "ReportsLogGroup",
    "ReportsApiAccessLogGroup",
    "ReportsErrorsAlarm",
    "ReportsApi5xxAlarm",
    "ScheduleDeadLetterQueue",
    "ScheduleDeadLetterAlarm",
    "JobFailureQueue",
    "JobFailureAlarm",
    "AlertsKey",
    "AlertsTopic",
    "AlertEmailSubscription",
}
# What SAM adds (roles, schedules, permissions, the API's stage) is named after the functions and
# their events: a job function's role, its EventInvokeConfig, and its schedule and the schedule's
# role (named after its ScheduleV2 event); a permission per HttpApi event of the reports function.
JOB_GENERATED = ("Role", "EventInvokeConfig", "{event}", "{event}Role")
OTHER_GENERATED_IDS = {"ReportsFunctionRole", "ReportsApiApiGatewayDefaultStage"}
# The name of the reports function's HttpApi event for each (method, path) the routing table needs
# (expected_events: the report routes share one per shape). SAM names its permission
# ReportsFunction<name>Permission, so renaming an event replaces that permission: these stay.
ROUTE_EVENTS = {
    ("GET", "/"): "Dashboard",
    ("GET", "/assets/{file}"): "DashboardAsset",
    ("GET", "/health"): "Health",
    ("GET", "/openapi.json"): "OpenApi",
    ("GET", "/reports/{name}"): "Report",
    ("POST", "/reports/{name}/refresh"): "Refresh",
    ("GET", "/jobs/status"): "JobStatus",
    ("GET", "/jobs/runs"): "JobRuns",
    ("POST", "/jobs/{job}/runs"): "RunJob",
}
NEW_ID = (
    "not pinned: a new resource? add its logical id to {where} in tests/infra/test_template.py;"
    " a renamed one replaces the deployed resource: keep its old id"
)
GONE_ID = "pinned, not in the template: a renamed or removed resource replaces the deployed one"


def job_logical_ids(job: Job) -> set[str]:
    return {f"{job_prefix(job)}{kind}" for kind in JOB_RESOURCES}


def job_generated_ids(job: Job) -> set[str]:
    event = schedule_event(job)
    return {f"{job.function_id}{suffix.format(event=event)}" for suffix in JOB_GENERATED}


def logical_ids() -> set[str]:
    return OTHER_IDS.union(*(job_logical_ids(job) for job in JOBS.values()))


def route_event_names(routes: Iterable[Route]) -> dict[tuple[str, str], str]:
    """(method, path) -> its pinned HttpApi event name, for every event the routes need."""
    needed = expected_events(routes)
    unnamed = sorted(f"{m} {p}" for m, p in needed.keys() - ROUTE_EVENTS.keys())
    assert not unnamed, (
        f"routes whose HttpApi event has no pinned name: {unnamed}; add (method, path): <the"
        " event's name in template.yaml> to ROUTE_EVENTS in tests/infra/test_template.py (SAM"
        " names its permission ReportsFunction<name>Permission)"
    )
    return {key: ROUTE_EVENTS[key] for key in needed}


def generated_ids() -> set[str]:
    permissions = {
        f"ReportsFunction{name}Permission" for name in route_event_names(ROUTES).values()
    }
    jobs = set().union(*(job_generated_ids(job) for job in JOBS.values()))
    return OTHER_GENERATED_IDS | jobs | permissions


def id_mismatches(found: set[str], expected: set[str], where: str) -> list[str]:
    """One line per id that differs, saying what to do about it; then each job's section hint."""
    lines, jobs = [], []
    for missing in sorted(expected - found):
        job = _owner(missing)
        lines.append(f"{missing}: {f'job {job.name} has none' if job else GONE_ID}")
        if job and job not in jobs:
            jobs.append(job)
    lines += [f"{new}: {NEW_ID.format(where=where)}" for new in sorted(found - expected)]
    return lines + [section_hint(job) for job in jobs]


def test_deployed_job_functions_stay() -> None:
    gone = DEPLOYED_JOB_FUNCTIONS - {job.function_id for job in JOBS.values()}
    assert not gone, (
        f"{sorted(gone)}: deployed, and no job's function any more: a job's function id comes"
        " from its folder (Job.function_id), and a new id replaces the deployed function, its"
        " schedule, log group and alarms. Keep the folder; remove a job from"
        " DEPLOYED_JOB_FUNCTIONS only when it is retired on purpose"
    )


def test_logical_ids_stay(template: dict[str, Any]) -> None:
    found = set(template["Resources"])
    assert found == logical_ids(), "\n".join(id_mismatches(found, logical_ids(), "OTHER_IDS"))


def test_each_route_event_keeps_its_name(template: dict[str, Any]) -> None:
    """The events' names (whence SAM's permission ids) stay, and each route's event has one."""
    named = route_event_names(ROUTES)
    for name, event in props(template, "ReportsFunction")["Events"].items():
        key = (event["Properties"]["Method"], event["Properties"]["Path"])
        if key in named:
            assert name == named[key], (
                f"{key[0]} {key[1]}: its HttpApi event is {name} in template.yaml, {named[key]}"
                " in ROUTE_EVENTS (tests/infra/test_template.py): renaming an event replaces its"
                f" deployed permission ReportsFunction{named[key]}Permission; keep the name"
            )


def test_ids_come_from_the_job_model_and_the_routing_table() -> None:
    """A job added to the model, or a route, brings its ids; a route's event must be named."""
    new_job = replace(JOBS["daily-trend-aggregation"], name="daily-x", folder="daily_x_rollup")
    assert job_logical_ids(new_job) == {
        "DailyXRollupFunction",
        "DailyXRollupLogGroup",
        "DailyXRollupErrorsAlarm",
        "DailyXRollupDurationAlarm",
        "DailyXRollupThrottlesAlarm",
    }
    assert job_generated_ids(new_job) == {
        "DailyXRollupFunctionRole",
        "DailyXRollupFunctionEventInvokeConfig",
        "DailyXRollupFunctionDaily",
        "DailyXRollupFunctionDailyRole",
    }
    status = next(r for r in ROUTES if r.path == "/jobs/status")
    new_route = replace(status, path="/jobs/calendar", operation_id="get_job_calendar")
    with pytest.raises(AssertionError, match=r"'GET /jobs/calendar'.*; add \(method, path\)"):
        route_event_names([*ROUTES, new_route])


# ---- the template SAM generates (samtranslator from the SAM CLI's environment) ----------------

TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicyNames:
    def load(self):
        raise SystemExit("the template names a managed policy by name")

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    for key in ("CodeUri", "ContentUri"):
        if key in resource.get("Properties", {}):
            resource["Properties"][key] = "s3://bucket/" + resource["Properties"][key]
print(json.dumps(transform(template, {}, NoManagedPolicyNames())))
"""

SECRET = {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": "DatabaseSecretArn"}}]}
TOPIC = {
    "Fn::Sub": [
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${topicName}",
        {"topicName": getatt("AlertsTopic", "TopicName")},
    ]
}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# SAM attaches this whenever VpcConfig is present, even when its Fn::If removes the VPC.
VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    done = subprocess.run(
        [str(sam_python()), "-c", TRANSLATE, str(TEMPLATE)],
        capture_output=True,
        text=True,
        env=sam_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def statements(role: dict[str, Any]) -> list[tuple[str, Any]]:
    """(action, resource) of every statement of a role's inline policies."""
    found = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            for action in actions if isinstance(actions, list) else [actions]:
                found.append((action, statement["Resource"]))
    return found


# What every job function's role allows: the failure queue (its EventInvokeConfig) and the
# database secret. A job that needs more (the weekly job publishes hiring alerts) is listed in
# JOB_EXTRA_STATEMENTS; the reports function reads the secret only.
JOB_STATEMENTS = [
    ("sqs:SendMessage", getatt("JobFailureQueue", "Arn")),
    ("secretsmanager:GetSecretValue", SECRET),
]
JOB_EXTRA_STATEMENTS = {
    "weekly-hiring-triggers": [
        ("sns:Publish", TOPIC),
        # the topic is encrypted: publishing takes a data key from its key
        ("kms:Decrypt", getatt("AlertsKey", "Arn")),
        ("kms:GenerateDataKey*", getatt("AlertsKey", "Arn")),
    ],
}
REPORTS_STATEMENTS = [("secretsmanager:GetSecretValue", SECRET)]


def allowed_statements() -> dict[str, list[tuple[str, Any]]]:
    """logical id -> what its role may do, for every job function of the model and reports."""
    allowed = {
        job.function_id: [*JOB_STATEMENTS, *JOB_EXTRA_STATEMENTS.get(job.name, [])]
        for job in JOBS.values()
    }
    return {**allowed, "ReportsFunction": REPORTS_STATEMENTS}


def generated_resource(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = resources.get(logical_id)
    assert found is not None, f"SAM generated no {logical_id}{_whose(logical_id)}"
    return found


@pytest.mark.slow
def test_function_roles_are_least_privilege(generated: dict[str, Any]) -> None:
    resources = generated["Resources"]
    assert set(JOB_EXTRA_STATEMENTS) <= set(JOBS), "JOB_EXTRA_STATEMENTS names no job of JOBS"
    for function, allowed in allowed_statements().items():
        role = generated_resource(resources, f"{function}Role")
        assert sorted(map(repr, statements(role))) == sorted(map(repr, allowed)), (
            f"{function}'s role: a job function may send to JobFailureQueue and read the database"
            " secret, no more (Policies: AWSSecretsManagerGetSecretValuePolicy, like the other"
            " jobs'); a job that needs more is listed in JOB_EXTRA_STATEMENTS"
            " (tests/infra/test_template.py)"
        )
        assert role["Properties"]["ManagedPolicyArns"] == [BASIC, VPC_ACCESS], function


@pytest.mark.slow
def test_generated_logical_ids_stay(generated: dict[str, Any]) -> None:
    # A layer version's id carries a hash of its content: a new version whenever it changes, by
    # design (versions are immutable); every other id stays.
    ids = {
        "DependenciesLayer" if k.startswith("DependenciesLayer") else k
        for k in generated["Resources"]
    }
    expected = logical_ids() | generated_ids()
    # SAM names what it generates after the function's id and the event's name: an event's name
    # is pinned in ROUTE_EVENTS, a job function's schedule is named after its cadence.
    where = "OTHER_IDS or OTHER_GENERATED_IDS (an event's name: ROUTE_EVENTS)"
    assert ids == expected, "\n".join(id_mismatches(ids, expected, where))
