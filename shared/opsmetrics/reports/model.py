"""The shape every report takes, whatever front door asks for it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportParams:
    """What a caller may ask of a report. `org_id` None means every organization (CLI only)."""

    org_id: uuid.UUID | None = None
    date: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    region: str | None = None
    limit: int | None = None
    cursor: str | None = None
    include_low_volume: bool = False


@dataclass
class Report:
    name: str
    date: dt.date | None  # the date the report is for (the latest with data when none was asked)
    columns: list[str]  # order of the row keys in CSV and table output
    rows: list[dict[str, Any]]  # flat rows: the CSV body, the table body, JSON "rows"
    summary: dict[str, Any] = field(default_factory=dict)  # headline figures
    extra: dict[str, Any] = field(default_factory=dict)  # other JSON-only parts (groups, cursors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "date": self.date.isoformat() if self.date else None,
            "summary": self.summary,
            **self.extra,
            "rows": self.rows,
        }
