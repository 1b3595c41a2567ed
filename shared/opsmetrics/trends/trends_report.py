"""The `trends` report: an organization's daily communication_trends rows over a date range.

Only the dates daily-trend-aggregation computed for the caller (a succeeded run covering the
organization, reports.computed) are shown; the range's other dates are listed in
`dates_not_computed`, and a range without one computed date is NotFound, never zeros.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.dates import check_range
from opsmetrics.errors import BadRequest
from opsmetrics.jobs import check_bounds
from opsmetrics.reports import computed
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.trends import figures, values

# Days shown when no range is asked for: one week ending at the latest day computed.
DEFAULT_DAYS = 7
# Longest range one request may ask for: a year of daily rows.
MAX_RANGE_DAYS = 366

COLUMNS = [
    "trend_date",
    "organization_id",
    "organization",
    "total_classifications",
    "avg_confidence",
    "top_topic",
    "negative_share_pct",
    "escalations",
    "hotspot_count",
    "topic_distribution",
    "sentiment_distribution",
    "escalation_counts",
    "channel_hotspots",
]

_ROWS = """
SELECT ct.trend_date, ct.organization_id, o.name AS organization, ct.total_classifications,
       ct.avg_confidence, ct.topic_distribution, ct.sentiment_distribution,
       ct.escalation_counts, ct.channel_hotspots
FROM communication_trends ct
JOIN organizations o ON o.id = ct.organization_id
WHERE ct.trend_period = 'daily' AND ct.trend_date = ANY(CAST(:dates AS date[])){org}
ORDER BY ct.trend_date, o.name, ct.organization_id
"""


def resolve_range(params: ReportParams, latest: date | None) -> tuple[date, date]:
    """The inclusive range a request names.

    date alone: that day; from and to: that range; only one end: a week from/to it; nothing:
    the DEFAULT_DAYS ending at `latest` (the latest day computed, which the caller looks up only
    when the request names no date).
    """
    if params.date is not None:
        if params.date_from is not None or params.date_to is not None:
            raise BadRequest("give either date or a from/to range, not both")
        return params.date, params.date
    start, end = params.date_from, params.date_to
    span = timedelta(days=DEFAULT_DAYS - 1)
    if start is None and end is None:
        if latest is None:
            raise ValueError("a request without dates needs the latest computed day")
        start, end = latest - span, latest
    elif start is None and end is not None:
        start = end - span
    elif end is None and start is not None:
        end = start + span
    assert start is not None and end is not None
    check_range(start, end)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(
            f"from {start} to {end} is {(end - start).days + 1} days; at most {MAX_RANGE_DAYS}"
        )
    return start, end


def trends(conn: Connection, params: ReportParams) -> Report:
    today = params.current_day()
    for what, asked in (("date", params.date), ("from", params.date_from), ("to", params.date_to)):
        if asked is not None:
            check_bounds(asked, today, what)
    latest = None
    if params.date is None and params.date_from is None and params.date_to is None:
        latest = computed.latest_date(conn, "trends", params)
    start, end = resolve_range(params, latest)
    shown, freshness = computed.dates_between(conn, "trends", params, start, end)
    one_org = params.org_id is not None
    scope: dict[str, Any] = {"org_id": params.org_id} if one_org else {}
    rows_sql = _ROWS.format(org=" AND ct.organization_id = :org_id" if one_org else "")
    dates = [d.isoformat() for d in shown]
    stored = conn.execute(text(rows_sql), {**scope, "dates": dates}).mappings()
    rows = [_row(dict(r)) for r in stored]
    summary = _summary(rows, (end - start).days + 1)
    extra: dict[str, Any] = {
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "dates_not_computed": _not_computed(start, end, set(shown)),
    }
    if params.limit is not None and len(rows) > params.limit:
        extra["rows_total"] = len(rows)
        rows = rows[: params.limit]
    return Report("trends", end, COLUMNS, rows, summary, extra, freshness)


def _not_computed(start: date, end: date, shown: set[date]) -> list[str]:
    span = ((start + timedelta(days=n)) for n in range((end - start).days + 1))
    return [d.isoformat() for d in span if d not in shown]


def _row(stored: dict[str, Any]) -> dict[str, Any]:
    topics = figures.ranked(stored["topic_distribution"])
    sentiment = figures.ranked(stored["sentiment_distribution"])
    alerts = figures.ranked(stored["escalation_counts"])
    return {
        "trend_date": stored["trend_date"],
        "organization_id": str(stored["organization_id"]),
        "organization": stored["organization"],
        "total_classifications": stored["total_classifications"],
        # rows written before bad confidences were left out may hold NaN: never shown
        "avg_confidence": stored["avg_confidence"]
        if values.usable_confidence(stored["avg_confidence"])
        else None,
        "top_topic": figures.top_topic(topics),
        "negative_share_pct": figures.negative_share_pct(sentiment),
        "escalations": sum(alerts.values()),
        "hotspot_count": len(stored["channel_hotspots"]),
        "topic_distribution": topics,
        "sentiment_distribution": sentiment,
        "escalation_counts": alerts,
        "channel_hotspots": stored["channel_hotspots"],
    }


def _summary(rows: list[dict[str, Any]], days: int) -> dict[str, Any]:
    topics = figures.merge_counts(r["topic_distribution"] for r in rows)
    sentiment = figures.merge_counts(r["sentiment_distribution"] for r in rows)
    return {
        "days": days,
        # a computed day with no classifications is a day without data, not a day with some
        "days_with_data": len({r["trend_date"] for r in rows if r["total_classifications"]}),
        "organizations": len({r["organization_id"] for r in rows}),
        "total_classifications": sum(r["total_classifications"] for r in rows),
        "escalations": sum(r["escalations"] for r in rows),
        "hotspots": sum(r["hotspot_count"] for r in rows),
        "top_topic": figures.top_topic(topics),
        "negative_share_pct": figures.negative_share_pct(sentiment),
        "topic_distribution": topics,
        "sentiment_distribution": sentiment,
        "escalation_counts": figures.merge_counts(r["escalation_counts"] for r in rows),
    }
