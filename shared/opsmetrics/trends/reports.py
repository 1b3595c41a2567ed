"""The `trends` report: an organization's daily communication_trends rows over a date range."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.errors import BadRequest
from opsmetrics.reports.model import Report, ReportParams
from opsmetrics.trends import figures

# Days shown when no range is asked for: one week ending at the latest day with data.
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
WHERE ct.trend_period = 'daily' AND ct.trend_date BETWEEN :date_from AND :date_to{org}
ORDER BY ct.trend_date, o.name, ct.organization_id
"""

_LATEST = "SELECT max(trend_date) FROM communication_trends WHERE trend_period = 'daily'{org}"


def resolve_range(params: ReportParams, latest: date | None) -> tuple[date, date] | None:
    """The inclusive range a request names; None when it names none and there is no data yet.

    date alone: that day; from and to: that range; only one end: a week from/to it; nothing:
    the DEFAULT_DAYS ending at the latest day with data.
    """
    if params.date is not None:
        if params.date_from is not None or params.date_to is not None:
            raise BadRequest("give either date or a from/to range, not both")
        return params.date, params.date
    start, end = params.date_from, params.date_to
    span = timedelta(days=DEFAULT_DAYS - 1)
    if start is None and end is None:
        if latest is None:
            return None
        start, end = latest - span, latest
    elif start is None and end is not None:
        start = end - span
    elif end is None and start is not None:
        end = start + span
    assert start is not None and end is not None
    if end < start:
        raise BadRequest(f"the range runs backwards: from {start} is after to {end}")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadRequest(
            f"from {start} to {end} is {(end - start).days + 1} days; at most {MAX_RANGE_DAYS}"
        )
    return start, end


def trends(conn: Connection, params: ReportParams) -> Report:
    one_org = params.org_id is not None
    scope: dict[str, Any] = {"org_id": params.org_id} if one_org else {}
    latest = None
    if params.date is None and params.date_from is None and params.date_to is None:
        latest_sql = _LATEST.format(org=" AND organization_id = :org_id" if one_org else "")
        latest = conn.execute(text(latest_sql), scope).scalar()
    picked = resolve_range(params, latest)
    if picked is None:
        return Report(
            "trends", None, COLUMNS, [], _summary([], 0), {"date_from": None, "date_to": None}
        )
    start, end = picked
    rows_sql = _ROWS.format(org=" AND ct.organization_id = :org_id" if one_org else "")
    stored = conn.execute(text(rows_sql), {**scope, "date_from": start, "date_to": end}).mappings()
    rows = [_row(dict(r)) for r in stored]
    summary = _summary(rows, (end - start).days + 1)
    extra: dict[str, Any] = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    if params.limit is not None and len(rows) > params.limit:
        extra["rows_total"] = len(rows)
        rows = rows[: params.limit]
    return Report("trends", end, COLUMNS, rows, summary, extra)


def _row(stored: dict[str, Any]) -> dict[str, Any]:
    topics = figures.ranked(stored["topic_distribution"])
    sentiment = figures.ranked(stored["sentiment_distribution"])
    alerts = figures.ranked(stored["escalation_counts"])
    return {
        "trend_date": stored["trend_date"],
        "organization_id": str(stored["organization_id"]),
        "organization": stored["organization"],
        "total_classifications": stored["total_classifications"],
        "avg_confidence": stored["avg_confidence"],
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
        "days_with_data": len({r["trend_date"] for r in rows}),
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
