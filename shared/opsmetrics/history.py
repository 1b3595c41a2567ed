"""The run ledger as people read it (`opsmetrics runs`, GET /jobs/runs): job_runs newest first,
filtered, one statement per page (spec §6, §7).

Scope: `org_id` set means "what that organization may see": the runs limited to it and the runs
that covered every organization (org_id NULL). An organization's token always gets that scope;
without one (an operator) every run is listed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.dates import check_range
from opsmetrics.errors import BadRequest

STATUSES = ("running", "succeeded", "partial", "failed")
# A screenful: enough to see last night's runs of every job and a short backfill.
DEFAULT_LIMIT = 50
# One page is one statement and one answer; more than this belongs in a filter, not a page.
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class RunFilter:
    job: str | None = None
    status: str | None = None
    start: date | None = None  # target_date on or after
    end: date | None = None  # target_date on or before
    org_id: uuid.UUID | None = None  # runs visible to this organization (its own and all-org)
    request_id: uuid.UUID | None = None  # the runs of one request (a backfill, a catch-up)
    limit: int = DEFAULT_LIMIT

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "status": self.status,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "org_id": str(self.org_id) if self.org_id else None,
            "request_id": str(self.request_id) if self.request_id else None,
            "limit": self.limit,
        }


def run_filter(
    *,
    job: str | None = None,
    status: str | None = None,
    start: date | None = None,
    end: date | None = None,
    org_id: str | uuid.UUID | None = None,
    request_id: str | uuid.UUID | None = None,
    limit: int | None = None,
) -> RunFilter:
    """A checked filter; BadRequest (one line naming the option) otherwise."""
    from opsmetrics.jobs import JOBS

    if job is not None and job not in JOBS:
        raise BadRequest(f"job: unknown job {job!r}; known jobs: {', '.join(JOBS)}")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status: unknown status {status!r}; one of {', '.join(STATUSES)}")
    if start is not None and end is not None:
        check_range(start, end)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return RunFilter(
        job=job,
        status=status,
        start=start,
        end=end,
        org_id=parse_uuid(org_id, "org"),
        request_id=parse_uuid(request_id, "request"),
        limit=limit or DEFAULT_LIMIT,
    )


def parse_uuid(value: str | uuid.UUID | None, what: str) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise BadRequest(f"{what} must be a UUID, got {value[:40]!r}") from None


@dataclass(frozen=True)
class RunPage:
    """One page of the ledger, newest first; `truncated` when older matching runs exist."""

    filter: RunFilter
    runs: list[dict[str, Any]]
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "filters": self.filter.to_dict(),
            "truncated": self.truncated,
            "runs": self.runs,
        }


# Newest first by started_at (job_runs_started_idx), id as the tie-break so pages are stable.
# A running row's duration is how long it has run so far (the database's clock, as started_at).
_LIST = """
    SELECT id, job, target_date, status, trigger, request_kind, request_id, org_id,
           started_at, finished_at,
           EXTRACT(EPOCH FROM coalesce(finished_at, clock_timestamp()) - started_at)
               AS duration_s,
           error, stats
    FROM job_runs
    WHERE {where}
    ORDER BY started_at DESC, id DESC
    LIMIT :fetch
"""


def list_runs(conn: Connection, wanted: RunFilter) -> RunPage:
    """The runs matching `wanted`, newest first, at most wanted.limit of them (one statement)."""
    where = ["TRUE"]
    params: dict[str, Any] = {"fetch": wanted.limit + 1}  # one more tells whether there is more
    for column, value, op in (
        ("job", wanted.job, "="),
        ("status", wanted.status, "="),
        ("target_date", wanted.start, ">="),
        ("target_date", wanted.end, "<="),
        ("request_id", wanted.request_id, "="),
    ):
        if value is not None:
            key = f"p{len(params)}"
            where.append(f"{column} {op} :{key}")
            params[key] = value
    if wanted.org_id is not None:
        where.append("(org_id IS NULL OR org_id = :org_id)")
        params["org_id"] = wanted.org_id
    rows = conn.execute(text(_LIST.format(where=" AND ".join(where))), params).mappings().all()
    runs = [_run(dict(r), wanted.org_id) for r in rows[: wanted.limit]]
    return RunPage(wanted, runs, truncated=len(rows) > wanted.limit)


def _run(row: dict[str, Any], viewer: uuid.UUID | None) -> dict[str, Any]:
    duration = row["duration_s"]
    stats = row["stats"] if isinstance(row["stats"], dict) else {}
    error = one_line(row["error"])
    if viewer is not None and row["org_id"] is None:
        stats = visible_stats(stats, viewer)
        error = visible_error(error)
    return {
        "run_id": row["id"],
        "job": row["job"],
        "target_date": row["target_date"],
        "status": row["status"],
        "trigger": row["trigger"],
        "request_kind": row["request_kind"],
        "request_id": row["request_id"],
        "org_id": row["org_id"],  # None: the run covered every organization
        "started_at": _utc(row["started_at"]),
        "finished_at": _utc(row["finished_at"]),
        "duration_s": round(float(duration), 3) if duration is not None else None,
        "error": error,
        "stats": stats,
    }


# Stats of an every-organization run that name organizations (trends: which ones failed, and why).
_PER_ORG_LIST = ("failed_organizations",)
_PER_ORG_MAP = ("failure_errors",)


def visible_stats(stats: dict[str, Any], viewer: uuid.UUID) -> dict[str, Any]:
    """An every-organization run's stats as one organization may see them: the totals, and of
    the per-organization details only its own; never another organization's id."""
    mine = str(viewer)
    kept: dict[str, Any] = {}
    for key, value in stats.items():
        if key in _PER_ORG_LIST and isinstance(value, list):
            kept[key] = [o for o in value if str(o) == mine]
        elif key in _PER_ORG_MAP and isinstance(value, dict):
            kept[key] = {o: e for o, e in value.items() if str(o) == mine}
        elif isinstance(value, int | float | bool | str) or value is None:
            kept[key] = value
        # any other nested value may name organizations: left out
    return kept


# What names our AWS account in a cause (an SNS AccessDenied names the role's ARN, with the
# account id): an organization reading an every-organization run sees the cause without it.
_AWS_NAMES = re.compile(r"arn:aws[\w-]*:[^\s,;'\"]*|\b\d{12}\b")


def visible_error(error: str | None) -> str | None:
    """An every-organization run's error as an organization may read it: AWS names left out."""
    return _AWS_NAMES.sub("[aws name]", error) if error else error


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def one_line(message: str | None) -> str | None:
    """An error as one line: older rows and foreign writers may hold tracebacks."""
    if message is None:
        return None
    return " ".join(message.split())
