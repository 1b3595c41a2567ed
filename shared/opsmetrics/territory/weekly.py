"""weekly-hiring-triggers for week-ending Sunday S, in the run's one transaction:

1. territories without a territory_metrics row for S get one, from the daily job's own code
   (write_day with only_missing: existing rows stay exactly as they are);
2. one UPDATE ... FROM sets both consecutive-week counters of S from S's own figures and S-7's
   counters (a missing S-7 row counts as 0), so running it twice gives the same numbers;
3. the hiring triggers of S (pure rules) are counted by severity and listed; with
   HIRING_ALERTS_TOPIC_ARN set, each organization's critical triggers go out as one SNS message.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.runs import AfterCommit, JobContext, JobOutcome
from opsmetrics.territory import alerts
from opsmetrics.territory.daily import write_day
from opsmetrics.territory.figures import TRIGGER_CANDIDATES, read_figures
from opsmetrics.territory.rules import GAP_WARNING_REJECTION, HIRING_UTILIZATION, MINIMUM_VOLUME
from opsmetrics.territory.triggers import count_by_severity, evaluate

# The job result lists at most this many triggers (most urgent first); counts cover them all.
MAX_RESULT_TRIGGERS = 1000


def previous_week(sunday: date) -> date:
    return sunday - timedelta(days=7)


def missing_rows(conn: Connection, day: date, org_id: uuid.UUID | None) -> int:
    """How many territories (in scope) have no territory_metrics row for `day`."""
    sql = (
        "SELECT count(*) FROM territories t WHERE NOT EXISTS (SELECT 1 FROM territory_metrics m"
        " WHERE m.territory_id = t.id AND m.metric_date = :day)"
    )
    params: dict[str, Any] = {"day": day}
    if org_id is not None:
        sql += " AND t.org_id = :org_id"
        params["org_id"] = org_id
    return int(conn.execute(text(sql), params).scalar_one())


def counters_sql(org_id: uuid.UUID | None) -> str:
    org_filter = "AND c.org_id = :org_id" if org_id is not None else ""
    return f"""
    WITH updated AS (
        UPDATE territory_metrics m SET
            hiring_trigger_weeks = CASE
                WHEN m.primary_medic_utilization > {HIRING_UTILIZATION}
                THEN prev.hiring_trigger_weeks + 1 ELSE 0 END,
            coverage_gap_weeks = CASE
                WHEN m.rejection_rate > {GAP_WARNING_REJECTION}
                     AND m.total_bookings >= {MINIMUM_VOLUME}
                THEN prev.coverage_gap_weeks + 1 ELSE 0 END
        FROM (
            SELECT c.territory_id,
                   p.territory_id IS NOT NULL AS found,
                   coalesce(p.hiring_trigger_weeks, 0) AS hiring_trigger_weeks,
                   coalesce(p.coverage_gap_weeks, 0) AS coverage_gap_weeks
            FROM territory_metrics c
            LEFT JOIN territory_metrics p
                   ON p.territory_id = c.territory_id AND p.metric_date = :previous
            WHERE c.metric_date = :day {org_filter}
        ) prev
        WHERE m.territory_id = prev.territory_id AND m.metric_date = :day
        RETURNING prev.found, m.hiring_trigger_weeks, m.coverage_gap_weeks
    )
    SELECT count(*) AS counters_updated,
           count(*) FILTER (WHERE NOT found) AS without_previous_week,
           count(*) FILTER (WHERE hiring_trigger_weeks > 0) AS overloaded_territories,
           count(*) FILTER (WHERE coverage_gap_weeks > 0) AS coverage_gap_territories
    FROM updated
    """


def update_counters(conn: Connection, sunday: date, org_id: uuid.UUID | None) -> dict[str, int]:
    params: dict[str, Any] = {"day": sunday, "previous": previous_week(sunday)}
    if org_id is not None:
        params["org_id"] = org_id
    row = conn.execute(text(counters_sql(org_id)), params).mappings().one()
    return {k: int(v) for k, v in row.items()}


def compute(ctx: JobContext) -> JobOutcome:
    sunday, org_id = ctx.target_date, ctx.org_id
    stats: dict[str, Any] = {"week_ending": sunday.isoformat()}
    bad_rows = 0
    if missing_rows(ctx.conn, sunday, org_id):
        daily = write_day(ctx.conn, sunday, org_id=org_id, only_missing=True)
        bad_rows = daily.bad_rows
        stats["daily_rows_computed"] = daily.territories_written
        stats.update(
            {
                f"daily_{k}": v
                for k, v in daily.stats().items()
                if k.endswith("_bookings") and isinstance(v, int)
            }
        )
    else:
        stats["daily_rows_computed"] = 0
    stats.update(update_counters(ctx.conn, sunday, org_id))

    triggers = evaluate(read_figures(ctx.conn, sunday, org_id=org_id, where=TRIGGER_CANDIDATES))
    counts = count_by_severity(triggers)
    stats.update({f"triggers_{k}": v for k, v in counts.items()})

    stats["sns_messages_published"] = 0
    topic = ctx.settings.hiring_alerts_topic_arn
    org_alerts = alerts.org_alerts(triggers, sunday) if topic else []

    def publish_alerts() -> AfterCommit:
        # After the commit: alerts only ever describe counters that are stored.
        sent = alerts.publish(topic or "", org_alerts)
        stats_: dict[str, Any] = {"sns_messages_published": sent.published}
        if sent.failed_orgs:
            stats_["sns_failed_organizations"] = len(sent.failed_orgs)
        return AfterCommit(
            stats=stats_,
            result={"sns_messages_published": sent.published},
            failed_orgs=sent.failed_orgs,
        )

    shown = triggers[:MAX_RESULT_TRIGGERS]
    return JobOutcome(
        stats=stats,
        rows_written=stats["counters_updated"],
        bad_rows=bad_rows,
        result={
            "week_ending": sunday.isoformat(),
            "counts": counts,
            "triggers": [t.to_dict() for t in shown],
            "triggers_truncated": len(shown) < len(triggers),
            "sns_messages_published": 0,
        },
        after_commit=publish_alerts if org_alerts else None,
    )
