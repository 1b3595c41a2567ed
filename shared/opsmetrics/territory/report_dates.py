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


# The weekly job's finished runs that covered the organization (a run limited by --org to another
# organization does not count). Partial weekly runs committed their counters (only alerts failed).
_LATEST_WEEKLY_RUN = """
    SELECT max(r.target_date) FROM job_runs r
    WHERE r.job = 'weekly-hiring-triggers' AND r.status IN ('succeeded', 'partial')
      AND (r.stats->>'org_id' IS NULL {org_filter})
      AND EXISTS (SELECT 1 FROM territory_metrics m
                  WHERE m.metric_date = r.target_date {org_rows})
"""


def latest_processed_sunday(conn: Connection, org_id: uuid.UUID | None) -> date | None:
    """The latest Sunday the weekly job finished for this organization (or for all of them).

    The daily job writes Sunday's rows at 03:00 on Monday and the weekly job counts the weeks at
    04:00: in between (or if it failed) that Sunday's counters still read 0, and a report on it
    would show a territory overloaded for weeks as a fresh warning.
    """
    if org_id is None:
        sql = _LATEST_WEEKLY_RUN.format(org_filter="", org_rows="")
        value = conn.execute(text(sql)).scalar()
    else:
        sql = _LATEST_WEEKLY_RUN.format(
            org_filter="OR r.stats->>'org_id' = :org_text", org_rows="AND m.org_id = :org_id"
        )
        value = conn.execute(text(sql), {"org_id": org_id, "org_text": str(org_id)}).scalar()
    return value if isinstance(value, date) else None


def weekly_date(conn: Connection, name: str, params: ReportParams) -> date | None:
    """The Sunday a weekly report is for: the one asked for, else the latest the weekly job has
    processed, else (it never ran) the latest Sunday with any rows."""
    if params.date is None:
        return latest_processed_sunday(conn, params.org_id) or latest_sunday(conn, params.org_id)
    if params.date.weekday() != SUNDAY:
        raise BadRequest(
            f"{name} is weekly: give a week-ending Sunday; {params.date} is a"
            f" {params.date:%A} (the Sunday before it is {latest_sunday_before(params.date)})"
        )
    return params.date
