"""`opsmetrics invoke FUNCTION --event FILE`: run a Lambda handler here, without Docker or AWS.

The handler that functions/<FUNCTION>/app.py deploys is built from the package as that file
builds it (the package never reads the functions/ folder), called with the event and a stand-in
context, and its answer printed as JSON on stdout. Everything the handler writes (JSON logs, EMF
metric lines) goes to stderr with `opsmetrics -v invoke` and is dropped otherwise, so the output
pipes into jq. Without DATABASE_URL or DB_SECRET_ARN the
invocation gets the embedded PostgreSQL's URL, like every other command. Metric publishing is
off (POWERTOOLS_METRICS_DISABLED): nothing would collect the metrics here.

Exit codes follow the command line's: 0 answered, 1 the job ran and failed or was partial (its
summary is still printed), 2 a bad request, 3 the same job and date is already running.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsmetrics.errors import BadRequest

# The stand-in context's limits: the job functions' timeout and memory in template.yaml.
LOCAL_TIMEOUT_S = 900
LOCAL_MEMORY_MB = 512

Handler = Callable[[Any, Any], Any]


@dataclass
class LocalContext:
    """The attributes of a Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = LOCAL_MEMORY_MB
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    timeout_s: int = LOCAL_TIMEOUT_S
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_s - elapsed) * 1000))


# The reports API's function (functions/reports/app.py re-exports this handler).
REPORTS_FUNCTION = "reports"
REPORTS_HANDLER = "opsmetrics.reports.lambda_app:lambda_handler"


def job_folders() -> list[str]:
    """Each job's code folder, in the job model's order."""
    from opsmetrics.jobs import JOBS

    return [job.folder for job in JOBS.values()]


def available() -> list[str]:
    """The functions `invoke` knows: each job's folder (the job model's) and the reports API."""
    return sorted([*job_folders(), REPORTS_FUNCTION])


def load_handler(function: str) -> Handler:
    """The handler functions/<function>/app.py deploys, built from the package as that file
    builds it (a job name with dashes is accepted too)."""
    from opsmetrics.jobs import JOBS
    from opsmetrics.lambda_jobs import job_handler
    from opsmetrics.plugins import load_attr

    name = function.strip().replace("-", "_")
    if name == REPORTS_FUNCTION:
        reports: Handler = load_attr(REPORTS_HANDLER)
        return reports
    for job in JOBS.values():
        if job.folder == name:
            return job_handler(job.name)
    raise BadRequest(f"unknown function {function!r}; one of: {', '.join(available())}")


def read_event(event_path: str) -> Any:
    path = Path(event_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadRequest(f"cannot read the event file {event_path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadRequest(f"{event_path} is not a text file (an event is UTF-8 JSON)") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{event_path} is not JSON: {exc.msg} at line {exc.lineno}") from None


def check_event_shape(function: str, event_path: str, event: Any) -> None:
    """The reports function answers API Gateway HTTP events only: anything else (a job's
    scheduled event, a list) is refused here with the kind of event it needs."""
    if function.strip().replace("-", "_") != "reports":
        return
    if not isinstance(event, dict) or not isinstance(event.get("requestContext"), dict):
        raise BadRequest(
            f"{event_path} is not an API Gateway HTTP event (no requestContext): the reports"
            " function takes the events under infra/events/reports/; scheduled events go to"
            f" the job functions ({', '.join(job_folders())})"
        )


@contextlib.contextmanager
def local_environment() -> Iterator[None]:
    """Variables a deployed function would have: a database and no metrics publishing."""
    from opsmetrics.config import Settings

    added: dict[str, str] = {}
    settings = Settings.from_env()
    if not settings.database_url and not settings.db_secret_arn:
        from opsmetrics import embedded

        added["DATABASE_URL"] = embedded.url(settings.data_dir / "pgdata")
    if "POWERTOOLS_METRICS_DISABLED" not in os.environ:
        added["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ.update(added)
    try:
        with warnings.catch_warnings():
            # Powertools warns when it has no metrics to flush; here that is expected.
            warnings.simplefilter("ignore")
            yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@contextlib.contextmanager
def handler_output() -> Iterator[None]:
    """Where the handler's own output goes. Its JSON logs and EMF lines go to stderr only with
    `opsmetrics -v invoke`; by default a failure is the one line the command line prints, as
    for every other command. stdout is kept for the answer either way."""
    from opsmetrics.observability import logger

    log = logger()
    level = log.log_level
    verbose = level <= logging.INFO
    if not verbose:
        log.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(sys.stderr if verbose else io.StringIO()):
            yield
    finally:
        log.setLevel(level)


def invoke(function: str, event_path: str) -> int:
    from opsmetrics.lambda_jobs import JobFailed

    handler = load_handler(function)
    event = read_event(event_path)
    check_event_shape(function, event_path, event)
    context = LocalContext(function_name=function.strip().replace("_", "-"))
    try:
        with local_environment(), handler_output():
            result = handler(event, context)
    except JobFailed as exc:
        print(json.dumps(exc.summary, indent=2))
        print(f"opsmetrics invoke: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0
