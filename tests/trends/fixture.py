"""The hand-computed day for the trend job, and small builders for the other trend tests.

Day D = 2026-03-10 (UTC). Organizations:
- busy:   341 classifications on D in 13 channels (incl. no channel and ''), 4 alerts on D;
- small:  3 classifications on D;
- quiet:  activity only on D-1 and D+1  -> a zero row for D;
- alerts: escalation alerts on D only, no classifications.
Every expected figure is worked out in the docstrings/comments below, not by running the code.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from tests.factories import insert_rows, org

D = date(2026, 3, 10)
NOON = "2026-03-10T12:00:00+00:00"
JSON_NULL = object()  # a JSON null, as opposed to SQL NULL (None)

NEG = {"tone": "negative", "score": -0.6}
NEU = {"tone": "neutral", "score": 0.0}
POS = {"tone": "positive", "score": 0.7}

# (channel_id, [(topic, count)]) for the busy organization. Sentiment: complaint/escalation
# negative, praise positive, everything else neutral; confidence 0.5 unless said otherwise.
BUSY_CHANNELS: list[tuple[str | None, list[tuple[str, int]]]] = [
    ("C10", [("complaint", 2), ("escalation", 2), ("billing", 6)]),  # 10 msgs, 4 flagged
    ("C09", [("complaint", 9)]),  # 9 msgs: below the minimum whatever the ratio
    ("C30", [("complaint", 3), ("escalation", 3), ("billing", 14)]),  # 6/20 = exactly 0.30
    ("C61", [("escalation", 61), ("billing", 139)]),  # 61/200 = 30.5% -> riskScore 31
    ("CTIE1", [("complaint", 6), ("praise", 6)]),  # 6/12 -> 50
    ("CTIE2", [("complaint", 7), ("praise", 7)]),  # 7/14 -> 50, more messages than CTIE1
    ("CSAME-a", [("complaint", 5), ("question", 5)]),  # 5/10 -> 50, same count as CSAME-B
    ("CSAME-B", [("complaint", 5), ("question", 5)]),  # 'B' (0x42) sorts before 'a' (0x61)
    ("CALL", [("escalation", 11)]),  # 11/11 -> 100
    ("C13", [("complaint", 5), ("scheduling", 8)]),  # 5/13 = 38.46% -> 38
    ("CCASE", [("Complaint", 4), ("billing", 6)]),  # 'Complaint' is not 'complaint': 0 flagged
    (None, [("complaint", 12)]),  # no channel: counted, never a hotspot
    ("", [("complaint", 10)]),  # empty channel id: no channel (else a 100-risk hotspot)
]

# Every malformed shape, carried by the 12 no-channel rows (in order) and one ''-channel row.
MALFORMED: list[Any] = [
    None,  # SQL NULL
    JSON_NULL,  # JSON null
    "negative",  # a JSON string
    ["negative"],  # an array
    42,  # a number
    True,  # a boolean
    {"score": -0.5},  # object without tone
    {"tone": 3},  # tone not a string
    {"tone": None},  # tone JSON null
    {"tone": {"label": "negative"}},  # tone an object
    {"tone": ["negative"]},  # tone an array
    {"tone": ""},  # empty tone
]
BLANK_TONE = {"tone": " \t\n "}  # on the first ''-channel row: white space only is malformed

# Expected figures for the busy organization on D.
BUSY_TOPICS = {
    # complaint: C10 2 + C09 9 + C30 3 + CTIE1 6 + CTIE2 7 + CSAME 5+5 + C13 5 + none 12 + '' 10
    "complaint": 64,
    "escalation": 77,  # C10 2 + C30 3 + C61 61 + CALL 11
    "billing": 165,  # C10 6 + C30 14 + C61 139 + CCASE 6
    "praise": 13,  # 6 + 7
    "question": 10,  # 5 + 5
    "scheduling": 8,
    "Complaint": 4,
}
BUSY_TOTAL = 341  # sum of the topics: 64+77+165+13+10+8+4
BUSY_MALFORMED = 13  # 12 no-channel rows + 1 blank tone
BUSY_SENTIMENT = {
    "negative": 128,  # 64 + 77 flagged rows, less the 13 malformed ones (all complaints)
    "neutral": 186,  # billing 165 + question 10 + scheduling 8 + Complaint 4, less 1 below
    "positive": 13,  # praise
    "Negative": 1,  # one scheduling row of C13 spelled so: kept as stored
}  # 128 + 186 + 13 + 1 = 328 = 341 - 13
# Confidence: NULL on the 10 CCASE rows, 1.0 on the 11 CALL rows, 0.5 on the other 320.
BUSY_AVG_CONFIDENCE = (11 * 1.0 + 320 * 0.5) / 331  # 171 / 331 = 0.51661...
BUSY_HOTSPOTS = [
    {"channelId": "CALL", "riskScore": 100, "messageCount": 11},
    {"channelId": "CTIE2", "riskScore": 50, "messageCount": 14},
    {"channelId": "CTIE1", "riskScore": 50, "messageCount": 12},
    {"channelId": "CSAME-B", "riskScore": 50, "messageCount": 10},
    {"channelId": "CSAME-a", "riskScore": 50, "messageCount": 10},
    {"channelId": "C10", "riskScore": 40, "messageCount": 10},
    {"channelId": "C13", "riskScore": 38, "messageCount": 13},
    {"channelId": "C61", "riskScore": 31, "messageCount": 200},
]
BUSY_ALERTS = {"high": 2, "critical": 1, "low": 1}

# C09's rows at the day's edges, written in other UTC offsets: all three are inside D.
C09_TIMES = [
    "2026-03-10T00:00:00+00:00",  # the first instant of D
    "2026-03-09T23:30:00-01:00",  # = D 00:30 UTC
    "2026-03-11T01:30:00+02:00",  # = D 23:30 UTC
]
# Rows just outside D (also in other offsets); were any counted, C09 would reach 10 messages.
OFF_DAY_TIMES = [
    "2026-03-10T01:00:00+02:00",  # = D-1 23:00 UTC
    "2026-03-09T23:59:59.999999+00:00",  # the last instant of D-1
    "2026-03-11T00:00:00+00:00",  # the first instant of D+1
    "2026-03-10T19:30:00-05:00",  # = D+1 00:30 UTC
]


@dataclass(frozen=True)
class Orgs:
    busy: uuid.UUID
    small: uuid.UUID
    quiet: uuid.UUID
    alerts: uuid.UUID

    def all(self) -> list[uuid.UUID]:
        return [self.busy, self.small, self.quiet, self.alerts]


def classification(
    org_id: uuid.UUID,
    *,
    channel: str | None = "C1",
    topic: str = "question",
    sentiment: Any = NEU,
    confidence: float | None = 0.5,
    at: str = NOON,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "organization_id": org_id,
        "channel_id": channel,
        "topic": topic,
        "sentiment": sentiment,
        "confidence": confidence,
        "created_at": at,
    }


def insert_classifications(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT where every sentiment is JSON text cast to jsonb (so JSON scalars,
    JSON null and SQL NULL all go in as themselves)."""
    encoded = [
        {
            **r,
            "sentiment": None
            if r["sentiment"] is None
            else "null"
            if r["sentiment"] is JSON_NULL
            else json.dumps(r["sentiment"]),
        }
        for r in rows
    ]
    columns = list(encoded[0])
    params: dict[str, Any] = {}
    values = []
    for i, row in enumerate(encoded):
        params.update({f"{c}_{i}": row[c] for c in columns})
        values.append(
            "("
            + ", ".join(
                f"CAST(:{c}_{i} AS jsonb)" if c == "sentiment" else f":{c}_{i}" for c in columns
            )
            + ")"
        )
    conn.execute(
        text(
            f"INSERT INTO topic_classifications ({', '.join(columns)}) VALUES {', '.join(values)}"
        ),
        params,
    )


def alert(org_id: uuid.UUID, severity: str, at: str = NOON) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "organization_id": org_id, "severity": severity, "created_at": at}


def busy_rows(org_id: uuid.UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    malformed = iter(MALFORMED)
    for channel, topics in BUSY_CHANNELS:
        for topic, count in topics:
            for i in range(count):
                sentiment: Any = (
                    NEG
                    if topic in ("complaint", "escalation")
                    else POS
                    if topic == "praise"
                    else NEU
                )
                if channel is None:
                    sentiment = next(malformed)
                elif channel == "" and i == 0:
                    sentiment = BLANK_TONE
                elif channel == "C13" and topic == "scheduling" and i == 0:
                    sentiment = {"tone": "Negative", "score": -0.2}
                confidence = None if channel == "CCASE" else 1.0 if channel == "CALL" else 0.5
                at = C09_TIMES[i] if channel == "C09" and i < len(C09_TIMES) else NOON
                rows.append(
                    classification(
                        org_id,
                        channel=channel,
                        topic=topic,
                        sentiment=sentiment,
                        confidence=confidence,
                        at=at,
                    )
                )
    assert next(malformed, "done") == "done"  # all 12 shapes used
    # Off the day: C09 complaints that would make it a 13-message, 100-risk hotspot if counted.
    rows += [classification(org_id, channel="C09", topic="complaint", at=t) for t in OFF_DAY_TIMES]
    return rows


def load_day(conn: Connection) -> Orgs:
    orgs = Orgs(
        busy=org(conn, "Busy Ltd"),
        small=org(conn, "Small Ltd"),
        quiet=org(conn, "Quiet Ltd"),
        alerts=org(conn, "Alerts Ltd"),
    )
    small = [
        classification(orgs.small, channel="B1", sentiment=POS, confidence=0.25),
        classification(orgs.small, channel="B1", sentiment=POS, confidence=0.25),
        classification(orgs.small, channel="B1", sentiment=POS, confidence=None),
    ]
    quiet = [
        classification(orgs.quiet, at="2026-03-09T12:00:00+00:00"),
        classification(orgs.quiet, at="2026-03-11T00:00:00+00:00"),
    ]
    insert_classifications(conn, busy_rows(orgs.busy) + small + quiet)
    insert_rows(
        conn,
        "escalation_alerts",
        [
            alert(orgs.busy, "high"),
            alert(orgs.busy, "high", "2026-03-11T00:59:00+01:00"),  # = D 23:59 UTC
            alert(orgs.busy, "critical", "2026-03-10T00:00:00+00:00"),
            alert(orgs.busy, "low"),
            alert(orgs.busy, "critical", "2026-03-11T00:00:00+00:00"),  # D+1: not counted
            alert(orgs.busy, "medium", "2026-03-09T23:59:59+00:00"),  # D-1: not counted
            alert(orgs.quiet, "high", "2026-03-09T08:00:00+00:00"),  # D-1: not counted
            alert(orgs.alerts, "medium"),
            alert(orgs.alerts, "medium", "2026-03-10T23:00:00-01:00"),  # D+1 00:00: not counted
        ],
    )
    return orgs


EMPTY_ROW = {
    "topic_distribution": {},
    "sentiment_distribution": {},
    "escalation_counts": {},
    "channel_hotspots": [],
    "total_classifications": 0,
    "avg_confidence": None,
}
SMALL_ROW = {
    "topic_distribution": {"question": 3},
    "sentiment_distribution": {"positive": 3},
    "escalation_counts": {},
    "channel_hotspots": [],
    "total_classifications": 3,
    "avg_confidence": 0.25,  # (0.25 + 0.25) / 2, the NULL left out
}
ALERTS_ROW = {**EMPTY_ROW, "escalation_counts": {"medium": 1}}
