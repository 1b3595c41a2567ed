"""Lambda handler for the weekly-hiring-triggers job (spec §1, §3).

Thin on purpose: Powertools' decorators, the event shapes, the run and the failure policy live in
opsmetrics.lambda_jobs (job_handler);
the job's schedule, target dates and this folder in its Job of opsmetrics.jobs.JOBS, which
tests/infra/test_template_jobs.py checks this JOB against.
"""

from opsmetrics.lambda_jobs import job_handler

JOB = "weekly-hiring-triggers"

lambda_handler = job_handler(JOB)
