"""Slack classifier data: topic classifications and escalation alerts, generated in PostgreSQL.

Each Slack organization gets a share of the day's volume (heavy-tailed: a few big workspaces,
many small ones) and channels with Zipf-like traffic. A channel's risk sets how many of its
messages are complaints or escalations: most channels are calm, some are hot (above the 0.30
hotspot ratio) and some sit close to it on either side. Works on the temporary table
`seed_orgs` (loader.py) and adds `seed_slack` and `seed_channels`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from opsmetrics.seed.scales import Scale
from opsmetrics.seed.sqlrand import SqlRand, literal

# Channel risk = share of complaint + escalation messages: (weight, low, high).
CALM = (0.76, 0.02, 0.14)
BORDERLINE = (0.12, 0.22, 0.36)  # either side of the 0.30 hotspot ratio
HOT = (0.12, 0.34, 0.62)
COMPLAINT_SHARE_OF_RISK = 0.65  # the rest of the risky messages are escalations

OTHER_TOPICS = (
    ("scheduling", 28),
    ("question", 20),
    ("shift_swap", 15),
    ("billing", 10),
    ("payroll", 10),
    ("praise", 10),
    ("onboarding", 7),
)

P_NO_CHANNEL = 0.02  # direct messages and deleted channels arrive without a channel id
P_NULL_CONFIDENCE = 0.03
P_MALFORMED_SENTIMENT = 0.015
MALFORMED_SENTIMENTS = (
    ("NULL::jsonb", 2),  # no sentiment at all
    ("'null'::jsonb", 1),  # a JSON null
    ("'\"negative\"'::jsonb", 1),  # a bare JSON string
    ("'[\"negative\", -0.4]'::jsonb", 1),  # an array
    ("'{\"score\": -0.4}'::jsonb", 1),  # no tone
    ('\'{"tone": 1, "score": 0.2}\'::jsonb', 1),  # tone not a string
    ('\'{"tone": null, "score": 0.1}\'::jsonb', 1),  # tone null
)
TONES_BY_TOPIC = {
    "risky": (("'negative'", 80), ("'neutral'", 17), ("'positive'", 3)),
    "praise": (("'positive'", 85), ("'neutral'", 15)),
    "other": (("'neutral'", 60), ("'positive'", 22), ("'negative'", 18)),
}
SEVERITIES = (("'low'", 40), ("'medium'", 30), ("'high'", 20), ("'critical'", 10))
# Share of messages of the day that also raise an escalation alert (drawn per organization).
ALERT_RATE = (0.004, 0.02)
# Messages spread over the UTC day with most in working hours (07:00-19:00).
P_WORKING_HOURS = 0.7


def build_channels(conn: Connection, scale: Scale, rand: SqlRand) -> None:
    lo, hi = scale.channels
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE seed_slack ON COMMIT DROP AS
            WITH weighted AS (
                SELECT o.org_no, o.id AS org_id,
                       1.0 / (0.05 + {rand.draw("r.h", 0)}) AS weight,
                       {lo} + {rand.below("r.h >> 32", hi - lo + 1)} AS n_channels,
                       {rand.between(rand.draw("r.h", 1), *ALERT_RATE)} AS alert_rate
                FROM seed_orgs o
                CROSS JOIN LATERAL (SELECT {rand.hash("slack-org", "o.org_no")} AS h OFFSET 0) r
                WHERE o.slack_no IS NOT NULL
            )
            SELECT org_no, org_id, n_channels::int, alert_rate,
                   {scale.classifications_on_anchor_day} * weight / sum(weight) OVER () AS volume
            FROM weighted
            """
        )
    )
    risk = rand.draw("r.h", 0)
    level = rand.draw("r.h", 1)
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE seed_channels ON COMMIT DROP AS
            WITH channels AS (
                SELECT s.org_no, s.org_id, s.volume, c AS ch_no,
                       'C' || upper(substr(md5('{rand.seed}:channel:' || s.org_no || ':' || c),
                                           1, 8)) AS channel_id,
                       1.0 / power(c, 0.9) AS weight,
                       CASE WHEN {risk} < {CALM[0]}
                                THEN {rand.between(level, CALM[1], CALM[2])}
                            WHEN {risk} < {CALM[0] + BORDERLINE[0]}
                                THEN {rand.between(level, BORDERLINE[1], BORDERLINE[2])}
                            ELSE {rand.between(level, HOT[1], HOT[2])} END AS risk
                FROM seed_slack s
                CROSS JOIN generate_series(1, s.n_channels) AS c
                CROSS JOIN LATERAL (
                    SELECT {rand.hash("channel", "s.org_no", "c")} AS h OFFSET 0
                ) r
            )
            SELECT org_no, org_id, ch_no, channel_id,
                   volume * weight / sum(weight) OVER (PARTITION BY org_no) AS volume,
                   risk * {COMPLAINT_SHARE_OF_RISK} AS p_complaint,
                   risk AS p_risky
            FROM channels
            """
        )
    )


def insert_classifications(
    conn: Connection,
    rand: SqlRand,
    day: date,
    day_no: int,
    factor: float,
    chunk: int = 0,
    chunks: int = 1,
) -> int:
    """The classifications created on the UTC day `day` by the organizations whose number is
    `chunk` modulo `chunks`, in one INSERT ... SELECT."""
    cell = rand.hash("channel-day", "c.org_no", "c.ch_no", str(day_no))
    count = (
        f"floor(c.volume * {factor!r} * (0.7 + 0.6 * {rand.draw(cell, 0)})"
        f" + {rand.draw(cell, 1)})::int"
    )
    parts = ("c.org_no", "c.ch_no", str(day_no), "k")
    others = rand.pick(rand.draw("r.h1", 1), [(literal(t), w) for t, w in OTHER_TOPICS])
    topic = f"""CASE WHEN {rand.draw("r.h1", 0)} < c.p_complaint THEN 'complaint'
                     WHEN {rand.draw("r.h1", 0)} < c.p_risky THEN 'escalation'
                     ELSE {others} END"""
    tone = rand.draw("r.h1", 2)
    tones = f"""CASE WHEN m.topic IN ('complaint', 'escalation')
                         THEN {rand.pick(tone, TONES_BY_TOPIC["risky"])}
                     WHEN m.topic = 'praise' THEN {rand.pick(tone, TONES_BY_TOPIC["praise"])}
                     ELSE {rand.pick(tone, TONES_BY_TOPIC["other"])} END"""
    score_draw = rand.draw("r.h2", 0)
    score = f"""round((CASE n.tone WHEN 'negative' THEN -(0.15 + 0.8 * {score_draw})
                                   WHEN 'positive' THEN 0.15 + 0.8 * {score_draw}
                                   ELSE ({score_draw} - 0.5) * 0.3 END)::numeric, 2)"""
    malformed = rand.pick(rand.draw("r.h2", 2), MALFORMED_SENTIMENTS)
    when = _time_of_day(rand, "r.h3", day)
    return conn.execute(
        text(
            f"""
            INSERT INTO topic_classifications
                (id, organization_id, channel_id, topic, sentiment, confidence, created_at)
            SELECT {rand.uuid("classification", *parts)}, c.org_id,
                   CASE WHEN {rand.draw("r.h2", 1)} < {P_NO_CHANNEL} THEN NULL
                        ELSE c.channel_id END,
                   m.topic,
                   CASE WHEN {rand.draw("r.h4", 0)} < {P_MALFORMED_SENTIMENT} THEN {malformed}
                        ELSE jsonb_build_object('tone', n.tone, 'score', {score}) END,
                   CASE WHEN {rand.draw("r.h4", 1)} < {P_NULL_CONFIDENCE} THEN NULL
                        ELSE round((0.4 + 0.6 * {rand.draw("r.h4", 2)})::numeric, 3)::float8
                   END,
                   {when}
            FROM seed_channels c
            CROSS JOIN LATERAL generate_series(1, {count}) AS k
            CROSS JOIN LATERAL (
                SELECT {rand.hash("message", *parts)} AS h1,
                       {rand.hash("message-2", *parts)} AS h2,
                       {rand.hash("message-3", *parts)} AS h3,
                       {rand.hash("message-4", *parts)} AS h4
                OFFSET 0
            ) r
            CROSS JOIN LATERAL (SELECT {topic} AS topic OFFSET 0) m
            CROSS JOIN LATERAL (SELECT {tones} AS tone OFFSET 0) n
            WHERE mod(c.org_no, {chunks}) = {chunk}
            """
        )
    ).rowcount


def insert_alerts(conn: Connection, rand: SqlRand, days: list[tuple[date, int, float]]) -> int:
    """Escalation alerts for every Slack organization and day, in one INSERT ... SELECT."""
    values = ", ".join(f"(DATE '{d.isoformat()}', {n}, {f!r})" for d, n, f in days)
    cell = rand.hash("alerts", "s.org_no", "d.day_no")
    count = (
        f"floor(s.volume * d.factor * s.alert_rate * (0.5 + {rand.draw(cell, 0)})"
        f" + {rand.draw(cell, 1)})::int"
    )
    return conn.execute(
        text(
            f"""
            INSERT INTO escalation_alerts (id, organization_id, severity, created_at)
            SELECT {rand.uuid("alert", "s.org_no", "d.day_no", "k")}, s.org_id,
                   {rand.pick(rand.draw("r.h", 2), SEVERITIES)},
                   {_time_of_day(rand, "r.t", "d.day")}
            FROM (VALUES {values}) AS d (day, day_no, factor)
            CROSS JOIN seed_slack s
            CROSS JOIN LATERAL generate_series(1, {count}) AS k
            CROSS JOIN LATERAL (
                SELECT {rand.hash("alert", "s.org_no", "d.day_no", "k")} AS h,
                       {rand.hash("alert-time", "s.org_no", "d.day_no", "k")} AS t
                OFFSET 0
            ) r
            ORDER BY d.day_no, s.org_no, k
            """
        )
    ).rowcount


def _time_of_day(rand: SqlRand, h: str, day: date | str) -> str:
    """A timestamptz on the UTC day, microsecond resolution, mostly in working hours."""
    start = f"DATE '{day.isoformat()}'" if isinstance(day, date) else day
    fine = f"({rand.draw(h, 0)} + {rand.draw(h, 1)} / 1048576.0)"  # 40 bits in [0, 1)
    seconds = f"""CASE WHEN {rand.draw(h, 2)} < {P_WORKING_HOURS}
                       THEN 25200 + {fine} * 43200 ELSE {fine} * 86400 END"""
    return (
        f"({start}::timestamp + floor(({seconds}) * 1000000)::int8 * interval '1 microsecond')"
        " AT TIME ZONE 'UTC'"
    )
