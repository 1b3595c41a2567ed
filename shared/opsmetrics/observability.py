"""Powertools Logger and Metrics, created once per process on first use (no I/O at import).

Configured by the usual Powertools variables. POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE are read through config.PowertoolsSettings (for opsmetrics'
defaults) when the logger or metrics are first made; Powertools reads the rest itself
(POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_DISABLED, ...).

No Tracer: it needs aws-xray-sdk, which the Lambda runtime does not ship, and would add its
import time to every cold start for spans the job_runs ledger and the per-job metrics already
give (duration, rows, failures).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache, wraps
from typing import IO, TYPE_CHECKING, Any, cast

from opsmetrics.config import PowertoolsSettings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

Handler = Callable[[Any, Any], Any]


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time (redirects and test captures replace it),
    not to the one that happened to be there when the logger was made."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@cache
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    # stderr: on the command line stdout carries reports; in Lambda both reach CloudWatch.
    return Logger(
        service=PowertoolsSettings.from_env().service_name,
        stream=cast("IO[str]", _CurrentStderr()),
    )


@cache
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    names = PowertoolsSettings.from_env()
    return Metrics(namespace=names.metrics_namespace, service=names.service_name)


def lambda_entry(job: str) -> Callable[[Handler], Handler]:
    """Decorate a job's Lambda handler: JSON logs with the Lambda context and `job` on every line
    (one_date.py adds target_date and run_id while a date runs), EMF metrics flushed at the end of
    each invocation (also when it fails), and the cold-start metric.
    """

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def with_job_key(event: Any, context: Any) -> Any:
            logger().append_keys(job=job)
            return handler(event, context)

        logged = logger().inject_lambda_context(clear_state=True)(with_job_key)
        measured: Handler = metrics().log_metrics(capture_cold_start_metric=True)(logged)
        return measured

    return decorate
