"""Job runs started over HTTP (a report refresh, POST /jobs/{job}/runs), and their limits, in
one place: API Gateway gives up after 30 s and the function after 29 s.

- a run does not wait for another run of the same job and date (or, for the weekly job, of any
  Sunday): it gets 409 with Retry-After: RETRY_AFTER_S at once, so no request holds a server
  thread and a database connection queueing on a lock; each statement gets at most
  STATEMENT_TIMEOUT_MS, and a silent connection fails after that plus 60 s;
- a request starts no further date once RUN_BUDGET_S - MIN_TIME_LEFT_S have gone by: the dates
  not reached are `skipped` and stay due (the next request, or the next scheduled run's
  catch-up, picks them up). One date of any job takes about half a second at national scale,
  but a weekly run may first compute missing earlier Sundays (up to 52);
- a process serves at most RUNS_AT_ONCE such requests at a time (the rest: 503 with
  Retry-After), so report reads always have server threads;
- a request for the same runs (job, dates, organization) as one this process is serving gets 409
  at once without touching the database;
- an organization starts at most Settings.http_runs_per_minute requests' runs a minute (429 with
  Retry-After): each request reserves its place in http_run_reservations under a lock per
  organization, so concurrent requests, in one server or many Lambda containers, are counted
  exactly.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from opsmetrics.config import Settings
from opsmetrics.errors import JobAlreadyRunning, ServerBusy, TooManyRequests

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.ledger import RunRequest
    from opsmetrics.run_results import RunSummary

RUN_BUDGET_S = 25
MIN_TIME_LEFT_S = 10
LOCK_WAIT_S = 0
STATEMENT_TIMEOUT_MS = 20_000
RETRY_AFTER_S = 5
# Half of `opsmetrics serve`'s threads: the other half always free for reads.
RUNS_AT_ONCE = 4


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


def run(
    job: str,
    dates: Sequence[date],
    *,
    engine: Engine,
    settings: Settings,
    org_id: uuid.UUID | None,
    today: date,
    request: RunRequest | None = None,
    catch_up: bool = False,
) -> RunSummary:
    """Run `job` for an HTTP request within the limits above (trigger `http`)."""
    from opsmetrics import runs

    limited = http_settings(settings)

    def start() -> RunSummary:
        if not _SLOTS.acquire(blocking=False):
            raise ServerBusy(
                f"this server is already running {RUNS_AT_ONCE} requests' jobs;"
                f" try again in {RETRY_AFTER_S} s"
            )
        try:
            if org_id is not None and limited.http_runs_per_minute > 0:
                _reserve(engine, org_id, limited.http_runs_per_minute)
            return runs.run(
                job,
                dates,
                trigger="http",
                engine=engine,
                settings=limited,
                org_id=org_id,
                catch_up=catch_up,
                request=request,
                today=today,
                time_left_s=time_left(),
            )
        finally:
            _SLOTS.release()

    return IN_PROGRESS.run((job, tuple(dates), org_id, catch_up), start)


_SLOTS = threading.BoundedSemaphore(RUNS_AT_ONCE)


def _reserve(engine: Engine, org_id: uuid.UUID, per_minute: int) -> None:
    from opsmetrics.ledger import reserve_http_run

    with engine.begin() as conn:
        wait_s = reserve_http_run(conn, org_id, per_minute)
    if wait_s:
        raise TooManyRequests(
            f"organization {org_id} has started {per_minute} runs in the last minute;"
            f" try again in {wait_s} s",
            wait_s,
        )


class InProgress:
    """The runs this process is serving now, by key: a second request for the same runs is
    answered at once (JobAlreadyRunning, 409) instead of holding a server thread and a database
    connection while it queues on the first one's lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[Hashable] = set()

    def run(self, key: Hashable, start: Callable[[], RunSummary]) -> RunSummary:
        with self._lock:
            if key in self._running:
                raise JobAlreadyRunning(
                    "the same run is already in progress on this server; its figures will be in"
                    f" the report when it ends: try again in {RETRY_AFTER_S} s"
                )
            self._running.add(key)
        try:
            return start()
        finally:
            with self._lock:
                self._running.discard(key)


IN_PROGRESS = InProgress()
