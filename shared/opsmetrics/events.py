"""Lambda event shapes -> the dates a job runs for (spec §3). Pure: no clock, no I/O.

Accepted, and nothing else:

- EventBridge Scheduler input ``{"scheduled_time": "2026-11-23T03:00:00Z"}`` (the template's form);
- a classic scheduled-rule event (``"detail-type": "Scheduled Event"``, tick in ``time``);
- a manual ``{"date": "YYYY-MM-DD"}`` or backfill ``{"from": ..., "to": ...}``, either optionally
  with ``"org": "<uuid>"`` to limit the run to one organization.

A scheduled tick's target is derived from the tick itself (converted to UTC), never from the
wall clock, so a late or repeated delivery of one tick always names the same date. A scheduled
invocation also catches up (spec §7): it runs its job's due dates before the tick's target.
`today` (the wall clock's UTC date, passed in) only bounds the valid dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from opsmetrics import jobs
from opsmetrics.dates import parse_date
from opsmetrics.errors import BadRequest

SCHEDULER_KEYS = frozenset({"scheduled_time"})
MANUAL_DATE_KEYS = frozenset({"date"})
MANUAL_RANGE_KEYS = frozenset({"from", "to"})
OPTIONAL_MANUAL_KEYS = frozenset({"org"})
CLASSIC_DETAIL_TYPE = "Scheduled Event"
CLASSIC_SOURCE = "aws.events"
# Ticks are short ISO timestamps; anything longer is not one (and is not echoed in full).
_MAX_SHOWN = 80


@dataclass(frozen=True)
class JobRequest:
    """What one invocation asks for: dates in order, how it was triggered, an optional org."""

    dates: list[date]
    trigger: str  # schedule | manual | backfill
    org_id: str | None = None
    tick: datetime | None = None  # the schedule tick (UTC) the dates came from

    @property
    def catch_up(self) -> bool:
        """A scheduled invocation runs the due dates first (spec §7)."""
        return self.trigger == "schedule"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trigger": self.trigger}
        if len(self.dates) == 1:
            out["target_date"] = self.dates[0].isoformat()
        else:
            out["target_dates"] = f"{self.dates[0]}..{self.dates[-1]} ({len(self.dates)})"
        if self.tick is not None:
            out["tick"] = self.tick.isoformat()
        if self.org_id is not None:
            out["org_id"] = self.org_id
        return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def parse_tick(value: Any, field: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, as UTC. A naive time is ambiguous: refused."""
    expected = f"{field} must be an ISO 8601 time like 2026-11-23T03:00:00Z, got {_shown(value)}"
    if not isinstance(value, str) or "T" not in value.upper():
        raise BadRequest(expected)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(expected) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BadRequest(f"{field} has no time zone (add Z for UTC), got {_shown(value)}")
    return parsed.astimezone(UTC)


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event[key]
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string like YYYY-MM-DD, got {_shown(value)}")
    return value


def _describe_keys(keys: frozenset[str]) -> str:
    return ", ".join(sorted(keys)) or "none"


def _scheduled(job: str, tick: datetime, today: date) -> JobRequest:
    spec = jobs.job(job)
    target = spec.check(spec.target_for(tick.date()), today, "the tick's target date")
    return JobRequest([target], "schedule", None, tick)


def _manual(job: str, event: Mapping[str, Any], keys: frozenset[str], today: date) -> JobRequest:
    from opsmetrics.orgs import parse_org_id

    org = event.get("org")
    org_id = None
    if "org" in keys:
        if not isinstance(org, str):
            raise BadRequest(f"'org' must be an organization id (UUID string), got {_shown(org)}")
        org_id = str(parse_org_id(org))
    if "date" in keys:
        day = parse_date(_text(event, "date"), "date")
        return JobRequest(jobs.requested_dates(job, today=today, on=day), "manual", org_id)
    start = parse_date(_text(event, "from"), "from")
    end = parse_date(_text(event, "to"), "to")
    dates = jobs.requested_dates(
        job, today=today, start=start, end=end, max_dates=jobs.MAX_REQUEST_DAYS
    )
    return JobRequest(dates, "backfill", org_id)


def parse_event(job: str, event: Any, today: date) -> JobRequest:
    """The dates and trigger an event asks `job` to run for. Raises BadRequest for anything else."""
    if not isinstance(event, Mapping):
        raise BadRequest(f"the event must be a JSON object, got {type(event).__name__}")
    keys = frozenset(str(k) for k in event)

    if "detail-type" in keys:
        detail_type = event["detail-type"]
        if detail_type != CLASSIC_DETAIL_TYPE:
            raise BadRequest(
                f"unsupported EventBridge event {_shown(detail_type)}; "
                f"only {CLASSIC_DETAIL_TYPE!r} events from a schedule rule are accepted"
            )
        if event.get("source", CLASSIC_SOURCE) != CLASSIC_SOURCE:
            raise BadRequest(
                f"a scheduled event must come from {CLASSIC_SOURCE!r}, "
                f"not {_shown(event.get('source'))}"
            )
        if "time" not in keys:
            raise BadRequest("the scheduled event has no 'time': cannot tell which tick it is")
        return _scheduled(job, parse_tick(event["time"], "time"), today)

    if keys == SCHEDULER_KEYS:
        return _scheduled(job, parse_tick(event["scheduled_time"], "scheduled_time"), today)

    shape = keys - OPTIONAL_MANUAL_KEYS
    if shape in (MANUAL_DATE_KEYS, MANUAL_RANGE_KEYS):
        return _manual(job, event, keys, today)

    raise BadRequest(
        f"unrecognised event (keys: {_describe_keys(keys)}); expected "
        '{"scheduled_time": "<ISO time>"}, a "Scheduled Event" from EventBridge, '
        '{"date": "YYYY-MM-DD"} or {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}'
    )
