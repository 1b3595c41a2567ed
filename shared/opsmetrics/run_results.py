"""What a request's runs come to: one DateRun per date, gathered in a RunSummary (what the
command line prints, the Lambda handlers return and HTTP answers carry)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from opsmetrics.ledger import RunRequest


@dataclass
class DateRun:
    target_date: date
    status: str  # succeeded | partial | failed | skipped
    run_id: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["target_date"] = self.target_date.isoformat()
        return out


@dataclass
class RunSummary:
    job: str
    trigger: str
    org_id: str | None
    runs: list[DateRun]
    request: RunRequest = field(default_factory=lambda: RunRequest("single"))

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.runs}
        for worst in ("failed", "partial"):
            if worst in statuses:
                return worst
        if "skipped" in statuses:  # stopped before its deadline: the rest stays due
            return "partial"
        return "succeeded"

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "trigger": self.trigger,
            "org_id": self.org_id,
            "request_id": str(self.request.id),
            "request_kind": self.request.kind,
            "status": self.status,
            "runs": [r.to_dict() for r in self.runs],
        }
