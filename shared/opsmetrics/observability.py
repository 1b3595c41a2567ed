"""Powertools Logger and Metrics, created once per process on first use (no I/O at import).

Configured by the usual Powertools variables: POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "opsmetrics"
NAMESPACE = "Opsmetrics"


@cache
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    # stderr: on the command line stdout carries reports; in Lambda both reach CloudWatch.
    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE, stream=sys.stderr)


@cache
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE,
    )
