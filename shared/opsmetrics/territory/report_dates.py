"""The date a report is for when the caller names none: the latest with data."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Connection, text

from opsmetrics.dates import SUNDAY, latest_sunday_before
from opsmetrics.errors import BadRequest
from opsmetrics.reports.model import ReportParams

_LATEST_FOR_ORG = "SELECT max(metric_date) FROM territory_metrics WHERE org_id = {org}"
# The latest Sunday with rows: start from the Sunday on or before the newest row, walk back.
_LATEST_SUNDAY_FOR_ORG = """
    SELECT m.metric_date FROM territory_metrics m
    WHERE m.org_id = {org} AND extract(isodow FROM m.metric_date) = 7
      AND m.metric_date <= (
          SELECT max(x.metric_date) - mod(extract(isodow FROM max(x.metric_date))::int, 7)
          FROM territory_metrics x WHERE x.org_id = {org})
    ORDER BY m.metric_date DESC LIMIT 1
"""


def _latest(conn: Connection, per_org_sql: str, org_id: uuid.UUID | None) -> date | None:
    if org_id is not None:
        found = conn.execute(text(per_org_sql.format(org=":org_id")), {"org_id": org_id})
    else:
        # One indexed probe per organization instead of scanning every date of every one.
        found = conn.execute(
            text(
                "SELECT max(d.day) FROM organizations o CROSS JOIN LATERAL"
                f" ({per_org_sql.format(org='o.id')}) AS d(day)"
            )
        )
    value = found.scalar()
    return value if isinstance(value, date) else None


def latest_date(conn: Connection, org_id: uuid.UUID | None) -> date | None:
    return _latest(conn, _LATEST_FOR_ORG, org_id)


def latest_sunday(conn: Connection, org_id: uuid.UUID | None) -> date | None:
    return _latest(conn, _LATEST_SUNDAY_FOR_ORG, org_id)


def weekly_date(conn: Connection, name: str, params: ReportParams) -> date | None:
    if params.date is None:
        return latest_sunday(conn, params.org_id)
    if params.date.weekday() != SUNDAY:
        raise BadRequest(
            f"{name} is weekly: give a week-ending Sunday; {params.date} is a"
            f" {params.date:%A} (the Sunday before it is {latest_sunday_before(params.date)})"
        )
    return params.date
