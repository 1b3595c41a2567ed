"""weekly-hiring-triggers for week-ending Sunday S, in the run's one transaction:

1. territories without a territory_metrics row for S get one, from the daily job's own code
   (write_day with only_missing: existing rows stay exactly as they are);
2. one UPDATE ... FROM sets both consecutive-week counters of S from S's own figures and S-7's
   counters (a missing S-7 row counts as 0), so running it twice gives the same numbers; the run
   loop has already computed a missing S-7 first (spec §7, the weekly chain);
3. one more statement carries S's counters forward through every later Sunday the job has
   already computed (`weeks_recomputed`), so a corrected week never leaves later weeks counting
   a streak that no longer exists;
4. the hiring triggers of S (the pure rules, on the rows rules_sql.TRIGGER_CANDIDATES reads)
   are counted by severity and listed; with HIRING_ALERTS_TOPIC_ARN set, each organization's
   critical triggers are recorded as one alert (hiring_alerts) and, after the commit, published
   to SNS unless that same alert was already published. Recomputed later weeks publish nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics import ledger_queries
from opsmetrics.job_context import AfterCommit, JobContext, JobOutcome
from opsmetrics.territory import alerts, streaks
from opsmetrics.territory.daily import write_day
from opsmetrics.territory.figures import org_filter, read_figures
from opsmetrics.territory.rules_sql import TRIGGER_CANDIDATES
from opsmetrics.territory.triggers import count_by_severity, evaluate

# The job result lists at most this many triggers (most urgent first); counts cover them all.
MAX_RESULT_TRIGGERS = 1000


def missing_rows(conn: Connection, day: date, org_id: uuid.UUID | None) -> int:
    """How many territories (in scope) have no territory_metrics row for `day`."""
    sql = (
        "SELECT count(*) FROM territories t WHERE NOT EXISTS (SELECT 1 FROM territory_metrics m"
        " WHERE m.territory_id = t.id AND m.metric_date = :day)"
    )
    params: dict[str, Any] = {"day": day}
    sql += org_filter(org_id, "t", params)
    return int(conn.execute(text(sql), params).scalar_one())


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
    stats.update(streaks.update_week(ctx.conn, sunday, org_id))
    # spec §7: later computed weeks never keep counting a streak this week no longer has.
    later = ledger_queries.computed_after(ctx.conn, ctx.job, sunday, org_id)
    stats.update(streaks.carry_forward(ctx.conn, sunday, later, org_id))

    triggers = evaluate(read_figures(ctx.conn, sunday, org_id=org_id, where=TRIGGER_CANDIDATES))
    counts = count_by_severity(triggers)
    stats.update({f"triggers_{k}": v for k, v in counts.items()})

    topic = ctx.settings.hiring_alerts_topic_arn
    org_alerts = alerts.org_alerts(triggers, sunday) if topic else []
    # Recorded with the counters, so an alert is owed exactly when its figures are stored.
    stats["alerts_recorded"] = alerts.record(ctx.conn, org_alerts, ctx.run_id)
    stats["sns_messages_published"] = 0
    engine = ctx.conn.engine

    def publish_alerts() -> AfterCommit:
        # After the commit: alerts only ever describe counters that are stored.
        sent = alerts.publish_unsent(engine, topic or "", org_alerts)
        stats_: dict[str, Any] = {
            "sns_messages_published": sent.published,
            "alerts_already_sent": sent.already_sent,
        }
        if sent.failed_orgs:
            stats_["sns_failed_organizations"] = len(sent.failed_orgs)
        return AfterCommit(
            stats=stats_,
            result={"sns_messages_published": sent.published},
            failed_orgs=sent.failed_orgs,
            error=sent.error_line(len(org_alerts)),
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
            "weeks_recomputed": stats["weeks_recomputed"],
            "sns_messages_published": 0,
        },
        after_commit=publish_alerts if org_alerts else None,
    )
