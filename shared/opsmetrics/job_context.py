"""What a job function receives and returns: the contract between the run loop (runs.py,
one_date.py, batch.py) and the jobs themselves (territory/, trends/), which import only this."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from opsmetrics.config import Settings


@dataclass
class JobContext:
    """What a job function receives. `conn` is inside the run's transaction: do not commit it."""

    conn: Connection
    target_date: date
    org_id: uuid.UUID | None
    run_id: uuid.UUID
    trigger: str
    settings: Settings
    job: str = ""  # the job's name, for a job that asks the ledger about its own runs


@dataclass
class AfterCommit:
    """What a job's post-commit step reports (merged into the run's stats and result)."""

    stats: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    failed_orgs: list[str] = field(default_factory=list)  # non-empty makes the run `partial`
    error: str | None = None  # why, for job_runs.error (the log is not where people look)


@dataclass
class JobOutcome:
    """What a job function returns."""

    stats: dict[str, Any]  # JSON-able counts, stored in job_runs.stats
    rows_written: int = 0
    bad_rows: int = 0
    failed_orgs: list[str] = field(default_factory=list)  # non-empty makes the run `partial`
    result: dict[str, Any] = field(default_factory=dict)  # JSON-able payload for callers
    # Side effects outside the database (notifications) run only once the outputs are
    # committed, so nobody is told about figures that were rolled back.
    after_commit: Callable[[], AfterCommit] | None = None

    @property
    def status(self) -> str:
        return "partial" if self.failed_orgs else "succeeded"

    def ledger_stats(
        self, duration_ms: int, waited_ms: int, org_id: uuid.UUID | None, **more: Any
    ) -> dict[str, Any]:
        """The run's job_runs.stats: the job's own, then the counts every run records."""
        stats = {
            **self.stats,
            "rows_written": self.rows_written,
            "bad_rows": self.bad_rows,
            "duration_ms": duration_ms,
            "lock_wait_ms": waited_ms,
            **more,
        }
        if org_id is not None:
            stats["org_id"] = str(org_id)
        if self.failed_orgs:
            stats["failed_organizations"] = self.failed_orgs
        return stats

    error: str | None = None  # a partial run's cause, for job_runs.error


JobFunction = Callable[[JobContext], JobOutcome]


@dataclass
class BatchContext:
    """What a batch function receives. `conn` is inside the chunk's transaction."""

    conn: Connection
    dates: list[date]  # ascending
    org_id: uuid.UUID | None
    run_ids: dict[date, uuid.UUID]
    trigger: str
    settings: Settings
    job: str


BatchFunction = Callable[[BatchContext], dict[date, JobOutcome]]
