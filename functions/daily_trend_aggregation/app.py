"""Lambda handler for the daily-trend-aggregation job (spec §1, §3).

Thin on purpose: the event shapes, the run and the failure policy live in opsmetrics.lambda_jobs;
the job's schedule, target dates and this folder in its Job of opsmetrics.jobs.JOBS, which
tests/infra/test_template_jobs.py checks this JOB against.
"""

from __future__ import annotations

from typing import Any

from opsmetrics.lambda_jobs import run_job_event
from opsmetrics.observability import lambda_entry

JOB = "daily-trend-aggregation"


@lambda_entry(JOB)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return run_job_event(JOB, event, context)
