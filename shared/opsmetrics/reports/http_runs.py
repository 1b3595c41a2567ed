"""The limits of a job run started over HTTP (a report refresh, POST /jobs/{job}/runs), in one
place: API Gateway gives up after 30 s and the function after 29 s.

- a run waits at most LOCK_WAIT_S for a run of the same job and date (then 409), and each
  statement gets at most STATEMENT_TIMEOUT_MS;
- a request starts no further date once RUN_BUDGET_S - MIN_TIME_LEFT_S have gone by: the dates
  not reached are `skipped` and stay due (the next request, or the next scheduled run's
  catch-up, picks them up). One date of any job takes about half a second at national scale,
  but a weekly run may first compute missing earlier Sundays (up to 52).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from opsmetrics.config import Settings

RUN_BUDGET_S = 25
MIN_TIME_LEFT_S = 10
LOCK_WAIT_S = 10
STATEMENT_TIMEOUT_MS = 20_000


def http_settings(settings: Settings) -> Settings:
    """The configured settings within the HTTP limits."""
    return replace(
        settings,
        lock_wait_s=min(settings.lock_wait_s, LOCK_WAIT_S),
        statement_timeout_ms=min(settings.statement_timeout_ms, STATEMENT_TIMEOUT_MS),
        min_time_left_s=MIN_TIME_LEFT_S,
    )


def time_left() -> Callable[[], float]:
    """Seconds left of this request's budget, counted from now."""
    deadline = time.monotonic() + RUN_BUDGET_S
    return lambda: deadline - time.monotonic()
