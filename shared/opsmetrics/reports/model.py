"""The shape every report takes, whatever front door asks for it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportParams:
    """What a caller may ask of a report. `org_id` None means every organization (CLI only).

    `today` is the UTC date the front door reads the clock as (spec §7: the default date is
    the latest computed on or before it, and `stale` is judged against it); None reads the clock.
    """

    org_id: uuid.UUID | None = None
    date: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    region: str | None = None
    limit: int | None = None
    cursor: str | None = None
    include_low_volume: bool = False
    today: dt.date | None = None

    def current_day(self) -> dt.date:
        return self.today or dt.datetime.now(dt.UTC).date()


def utc_iso(moment: dt.datetime) -> str:
    """ISO-8601 in UTC to the second, with a `Z`: 2026-11-30T03:00:12Z."""
    return moment.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@dataclass(frozen=True)
class ReportFreshness:
    """How current a report's data is (spec §7, reports over time)."""

    as_of: dt.datetime  # when the succeeded run that wrote the data finished (a range: the latest)
    stale: bool  # the job's expected latest date has no succeeded run covering the caller
    job: str  # the job whose output the report reads
    expected: dt.date  # that expected latest date: yesterday, or the latest Sunday before today


@dataclass
class Report:
    name: str
    date: dt.date | None  # the date the report is for (the latest computed when none was asked)
    columns: list[str]  # order of the row keys in CSV and table output
    rows: list[dict[str, Any]]  # flat rows: the CSV body, the table body, JSON "rows"
    summary: dict[str, Any] = field(default_factory=dict)  # headline figures
    extra: dict[str, Any] = field(default_factory=dict)  # other JSON-only parts (groups, cursors)
    freshness: ReportFreshness | None = None  # JSON `as_of` and `stale`, the table's header

    def to_dict(self) -> dict[str, Any]:
        fresh = self.freshness
        return {
            "report": self.name,
            "date": self.date.isoformat() if self.date else None,
            "as_of": utc_iso(fresh.as_of) if fresh else None,
            "stale": fresh.stale if fresh else None,
            "summary": self.summary,
            **self.extra,
            "rows": self.rows,
        }
