"""The SQL of the daily trend job: one aggregation of the requested days for every organization,
then batched upserts from it. Nothing here runs a query per organization or per day.

One date (a scheduled run) and many (a backfill, a catch-up: opsmetrics.batch) are the same
statements: the figures are grouped by (organization, UTC day), so N dates are one grouped pass
over their span, and a date's row is the same whichever way it was computed (the confidence sum
is exact, see CONFIDENCE_SCALE, so not even the order rows are read in changes a bit of it).
"""

from __future__ import annotations

from typing import Any

from opsmetrics.trends import hotspots, values

# The temp table holding the days' figures, one row per (organization, trend_date); it lives only
# inside the run's transaction (ON COMMIT DROP), so concurrent runs never see each other's.
DAY_TABLE = "trend_day"
# Confidences are summed as integers of 2**-62 (a usable one is in [0, 1], so 1.0 -> 2**62 fits a
# bigint; sum(bigint) is exact). A float sum depends on the order the rows are added in, which
# differs between plans (one day against a span of days); this one does not, and it is more
# precise than the float sum (2**-62 absolute on each value).
CONFIDENCE_SCALE = 2**62


# GROUPING(topic, tone, channel_id) of each grouping set: a bit is 1 where the column is rolled up.
# An organization's total, confidence and malformed count come from its topic and tone groups,
# which saves a fourth hash table over the day's rows; blank tones are told apart per group,
# not per row.
LEVEL_TOPIC = 0b011
LEVEL_TONE = 0b101
LEVEL_CHANNEL = 0b110

_RISK = hotspots.risk_score_sql("g.flagged", "g.n")
_USABLE_TONE = values.usable_tone_sql("g.tone")  # a group's tone names a tone


def aggregate_sql(one_org: bool, many_dates: bool) -> str:
    """CREATE the temp table of the figures of every date in :dates for every organization (or
    just :org_id), from the rows created in [:span_start, :span_end). one date: its rows are all
    of that date, so the day is a constant, not computed per row. Days of the span that are not
    in :dates (a catch-up's holes, at most a few: opsmetrics.batch) are grouped and then left
    out by the final join on :dates; filtering them per row cost more than it saved."""
    org_rows = " AND organization_id = :org_id" if one_org else ""
    org_only = " AND o.id = :org_id" if one_org else ""
    day = "(created_at AT TIME ZONE 'UTC')::date" if many_dates else "CAST(:first_date AS date)"
    usable = values.usable_confidence_sql("confidence")
    return f"""
CREATE TEMP TABLE {DAY_TABLE} ON COMMIT DROP AS
WITH day_rows AS (
    SELECT organization_id, {day} AS trend_date,
           {values.channel_sql("channel_id")} AS channel_id,
           topic,
           CASE WHEN {usable} THEN (confidence * {CONFIDENCE_SCALE}::float8)::bigint END
               AS confidence_units,
           coalesce(NOT {usable}, false) AS bad_confidence,
           {values.tone_text_sql("sentiment")} AS tone
    FROM topic_classifications
    WHERE created_at >= :span_start AND created_at < :span_end{org_rows}
),
grouped AS (
    SELECT organization_id, trend_date, topic, tone, channel_id,
           GROUPING(topic, tone, channel_id) AS level,
           count(*) AS n,
           count(*) FILTER (WHERE {hotspots.flagged_sql("topic")}) AS flagged,
           count(confidence_units) AS n_confidence,
           sum(confidence_units) AS sum_confidence,
           count(*) FILTER (WHERE bad_confidence) AS n_bad_confidence
    FROM day_rows
    GROUP BY GROUPING SETS (
        (organization_id, trend_date, topic),
        (organization_id, trend_date, tone),
        (organization_id, trend_date, channel_id)
    )
),
per_org AS (
    SELECT g.organization_id, g.trend_date,
           jsonb_object_agg(g.topic, g.n)
               FILTER (WHERE g.level = {LEVEL_TOPIC} AND g.topic IS NOT NULL)
               AS topic_distribution,
           jsonb_object_agg(g.tone, g.n)
               FILTER (WHERE g.level = {LEVEL_TONE} AND {_USABLE_TONE})
               AS sentiment_distribution,
           jsonb_agg(
               jsonb_build_object(
                   'channelId', g.channel_id, 'riskScore', {_RISK}, 'messageCount', g.n
               )
               ORDER BY {_RISK} DESC, g.n DESC, g.channel_id COLLATE "C"
           ) FILTER (
               WHERE g.level = {LEVEL_CHANNEL} AND g.channel_id IS NOT NULL
                 AND {hotspots.is_hotspot_sql("g.flagged", "g.n")}
           ) AS channel_hotspots,
           sum(g.n) FILTER (WHERE g.level = {LEVEL_TOPIC}) AS total,
           -- the exact sum, rounded once to a float: the mean of the usable confidences
           (sum(g.sum_confidence) FILTER (WHERE g.level = {LEVEL_TOPIC}))::float8
               / {CONFIDENCE_SCALE}::float8
               / NULLIF(sum(g.n_confidence) FILTER (WHERE g.level = {LEVEL_TOPIC}), 0)::float8
               AS avg_confidence,
           sum(g.n_bad_confidence) FILTER (WHERE g.level = {LEVEL_TOPIC}) AS bad_confidence,
           sum(g.n) FILTER (WHERE g.level = {LEVEL_TOPIC})
               - COALESCE(
                   sum(g.n) FILTER (WHERE g.level = {LEVEL_TONE} AND {_USABLE_TONE}),
                   0
               )
               AS malformed
    FROM grouped g
    GROUP BY g.organization_id, g.trend_date
),
alerts AS (
    SELECT organization_id, trend_date, jsonb_object_agg(severity, n) AS escalation_counts,
           sum(n) AS n
    FROM (
        SELECT organization_id, {day} AS trend_date, severity, count(*) AS n
        FROM escalation_alerts
        WHERE created_at >= :span_start AND created_at < :span_end
          AND severity IS NOT NULL{org_rows}
        GROUP BY 1, 2, 3
    ) s
    GROUP BY organization_id, trend_date
)
SELECT o.id AS organization_id, d.trend_date,
       ((row_number() OVER (ORDER BY d.trend_date, o.id)) - 1) / :batch_size AS batch_no,
       COALESCE(p.topic_distribution, '{{}}'::jsonb) AS topic_distribution,
       COALESCE(p.sentiment_distribution, '{{}}'::jsonb) AS sentiment_distribution,
       COALESCE(a.escalation_counts, '{{}}'::jsonb) AS escalation_counts,
       COALESCE(p.channel_hotspots, '[]'::jsonb) AS channel_hotspots,
       COALESCE(p.total, 0)::int AS total_classifications,
       p.avg_confidence,
       COALESCE(p.malformed, 0)::bigint AS malformed_sentiment,
       COALESCE(p.bad_confidence, 0)::bigint AS bad_confidence,
       COALESCE(a.n, 0)::bigint AS escalation_alerts
FROM unnest(CAST(:dates AS date[])) AS d(trend_date)
CROSS JOIN organizations o
LEFT JOIN per_org p ON p.organization_id = o.id AND p.trend_date = d.trend_date
LEFT JOIN alerts a ON a.organization_id = o.id AND a.trend_date = d.trend_date
WHERE true{org_only}
"""


def aggregate_params(batch_size: int) -> dict[str, Any]:
    """Rule constants and batch size bound into aggregate_sql (dates and org come later)."""
    return {**hotspots.HOTSPOT_PARAMS, "batch_size": batch_size}


DROP_DAY_TABLE = f"DROP TABLE IF EXISTS {DAY_TABLE}"

DAY_TOTALS = f"""
SELECT trend_date, count(*) AS organizations,
       COALESCE(sum(total_classifications), 0)::bigint AS classifications,
       COALESCE(sum(malformed_sentiment), 0)::bigint AS malformed_sentiment,
       COALESCE(sum(bad_confidence), 0)::bigint AS bad_confidence,
       COALESCE(sum(escalation_alerts), 0)::bigint AS escalation_alerts,
       count(*) FILTER (WHERE total_classifications = 0) AS quiet_organizations,
       COALESCE(sum(jsonb_array_length(channel_hotspots)), 0)::bigint AS hotspots
FROM {DAY_TABLE}
GROUP BY trend_date
ORDER BY trend_date
"""

BATCHES = f"""
SELECT batch_no, trend_date, organization_id FROM {DAY_TABLE}
ORDER BY batch_no, trend_date, organization_id
"""

_UPSERT = f"""
WITH written AS (
    INSERT INTO communication_trends (
        organization_id, trend_date, trend_period, topic_distribution, sentiment_distribution,
        escalation_counts, channel_hotspots, total_classifications, avg_confidence,
        created_at, updated_at
    )
    SELECT organization_id, trend_date, 'daily', topic_distribution, sentiment_distribution,
           escalation_counts, channel_hotspots, total_classifications, avg_confidence,
           now(), now()
    FROM {DAY_TABLE}
    WHERE {{where}}
    ON CONFLICT (organization_id, trend_date, trend_period) DO UPDATE SET
        topic_distribution = EXCLUDED.topic_distribution,
        sentiment_distribution = EXCLUDED.sentiment_distribution,
        escalation_counts = EXCLUDED.escalation_counts,
        channel_hotspots = EXCLUDED.channel_hotspots,
        total_classifications = EXCLUDED.total_classifications,
        avg_confidence = EXCLUDED.avg_confidence,
        updated_at = EXCLUDED.updated_at
    RETURNING trend_date, (xmax = 0) AS inserted
)
SELECT trend_date, count(*) AS written, count(*) FILTER (WHERE NOT inserted) AS replaced
FROM written GROUP BY trend_date
"""
# created_at is left alone on conflict: it says when the day was first aggregated.
# xmax = 0 marks a freshly inserted row (an updated one carries the updating transaction id).

UPSERT_BATCH = _UPSERT.format(where="batch_no = :batch_no")
UPSERT_ONE = _UPSERT.format(where="organization_id = :org_id AND trend_date = :trend_date")

MALFORMED_SAMPLE = f"""
SELECT id::text AS id, organization_id::text AS organization_id,
       left(COALESCE(sentiment::text, 'SQL NULL'), 120) AS sentiment
FROM topic_classifications
WHERE created_at >= :span_start AND created_at < :span_end
  AND ({values.tone_is_valid_sql("sentiment")}) IS NOT TRUE{{org_rows}}
LIMIT :sample_size
"""


def malformed_sample_sql(one_org: bool) -> str:
    return MALFORMED_SAMPLE.format(org_rows=" AND organization_id = :org_id" if one_org else "")
