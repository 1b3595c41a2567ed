"""SNS messages for critical hiring triggers: one message per organization and week, sent once.

spec §7, side effects once: the weekly job records each organization's alert for its Sunday
(hiring_alerts: content hash, run) in its own transaction; after the commit each recorded alert
not yet published is published and marked (when, message id). A rerun with the same content
finds it published and sends nothing; a failed publish stays unsent and the next run of that
Sunday retries it; corrected figures make a new content hash, so the correction is sent.

Delivery is still at least once in one case: SNS accepted a message but the process died before
marking it. `dedupe_key` (org:week:hash) lets a consumer drop that repeat.

The client is made once per process (and region), on first use, never at import.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

from opsmetrics.territory.triggers import HiringTrigger

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# SNS caps a message at 256 KB; a trigger is ~0.4 KB of JSON, so 200 leave ample room.
MAX_TRIGGERS_PER_MESSAGE = 200
SUBJECT_LIMIT = 100  # SNS rejects longer subjects


@dataclass(frozen=True)
class OrgAlert:
    org_id: str
    week_ending: date
    triggers: tuple[HiringTrigger, ...]  # the organization's critical triggers, sorted

    @property
    def subject(self) -> str:
        n = len(self.triggers)
        plural = "" if n == 1 else "s"
        return f"{n} critical hiring trigger{plural}, week ending {self.week_ending}"[
            :SUBJECT_LIMIT
        ]

    def body(self) -> str:
        shown = self.triggers[:MAX_TRIGGERS_PER_MESSAGE]
        return json.dumps(
            {
                "org_id": self.org_id,
                "week_ending": self.week_ending.isoformat(),
                "critical_triggers": len(self.triggers),
                "truncated": len(shown) < len(self.triggers),
                "triggers": [t.to_dict() for t in shown],
            },
            default=str,
            sort_keys=True,
        )

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body().encode()).hexdigest()


def org_alerts(triggers: Iterable[HiringTrigger], week_ending: date) -> list[OrgAlert]:
    """Pure: the critical triggers grouped into one alert per organization (org id order)."""
    per_org: dict[str, list[HiringTrigger]] = {}
    for trigger in triggers:
        if trigger.severity == "critical":
            per_org.setdefault(str(trigger.org_id), []).append(trigger)
    return [OrgAlert(org, week_ending, tuple(found)) for org, found in sorted(per_org.items())]


def topic_region(topic_arn: str) -> str | None:
    """The region in arn:aws:sns:REGION:ACCOUNT:NAME, None if the ARN does not say."""
    parts = topic_arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "sns" and parts[3]:
        return parts[3]
    return None


@cache
def sns_client(region: str | None) -> SNSClient:
    import boto3
    from botocore.config import Config

    # Bounded: a publish holds its alert's row lock (and a transaction) while SNS answers.
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3})
    client: SNSClient = boto3.client("sns", region_name=region, config=config)
    return client


@dataclass
class PublishResult:
    published: int
    failed_orgs: list[str]
    already_sent: int = 0
    first_error: str | None = None  # the first failure, as one line

    def error_line(self, owed: int) -> str | None:
        """What job_runs.error says when some alerts could not be published."""
        if not self.failed_orgs:
            return None
        return (
            f"hiring alerts not published for {len(self.failed_orgs)} of {owed}"
            f" organizations (they are retried by the next run of this Sunday): {self.first_error}"
        )


def record(conn: Connection, alerts: Sequence[OrgAlert], run_id: uuid.UUID) -> int:
    """Record the alerts the run owes, in its transaction; how many were new."""
    if not alerts:
        return 0
    rows = [
        {
            "org_id": a.org_id,
            "week_ending": a.week_ending,
            "content_hash": a.content_hash,
            "critical_triggers": len(a.triggers),
        }
        for a in alerts
    ]
    inserted = conn.execute(
        text(
            "INSERT INTO hiring_alerts (org_id, week_ending, content_hash, run_id,"
            " critical_triggers)"
            " SELECT CAST(x->>'org_id' AS uuid), CAST(x->>'week_ending' AS date),"
            " x->>'content_hash', :run_id, CAST(x->>'critical_triggers' AS int)"
            " FROM jsonb_array_elements(CAST(:rows AS jsonb)) x"
            " ON CONFLICT DO NOTHING"
        ),
        {"rows": json.dumps(rows, default=str), "run_id": run_id},
    )
    return int(inserted.rowcount or 0)


def publish_unsent(engine: Engine, topic_arn: str, alerts: Iterable[OrgAlert]) -> PublishResult:
    """Publish each recorded alert that is not yet published, and mark it.

    Each alert is claimed with a row lock (SKIP LOCKED) for the time of its publish, so two runs
    of the same Sunday finishing together cannot both send it. One organization's failure is
    logged and does not stop the others; its alert stays unsent for the next run.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from opsmetrics.observability import logger

    result = PublishResult(0, [])
    for alert in alerts:
        key = {
            "org_id": alert.org_id,
            "week_ending": alert.week_ending,
            "content_hash": alert.content_hash,
        }
        with engine.begin() as conn:
            claimed = conn.execute(
                text(
                    "SELECT 1 FROM hiring_alerts WHERE org_id = :org_id"
                    " AND week_ending = :week_ending AND content_hash = :content_hash"
                    " AND published_at IS NULL FOR UPDATE SKIP LOCKED"
                ),
                key,
            ).first()
            if claimed is None:
                result.already_sent += 1
                continue
            try:
                message_id = publish_one(topic_arn, alert)
            except (BotoCoreError, ClientError) as exc:
                # not errors.one_line: it would call a refused connection to SNS a database's
                error = f"SNS: {type(exc).__name__}: {exc}".splitlines()[0][:300]
                logger().warning(
                    "hiring alert not published", extra={"org_id": alert.org_id, "error": error}
                )
                result.failed_orgs.append(alert.org_id)
                result.first_error = result.first_error or error
                continue
            conn.execute(
                text(
                    "UPDATE hiring_alerts SET published_at = clock_timestamp(),"
                    " message_id = :message_id WHERE org_id = :org_id"
                    " AND week_ending = :week_ending AND content_hash = :content_hash"
                ),
                {**key, "message_id": message_id},
            )
            result.published += 1
    return result


def publish_one(topic_arn: str, alert: OrgAlert) -> str:
    """Publish one alert; SNS's message id."""
    client = sns_client(topic_region(topic_arn))
    answer = client.publish(
        TopicArn=topic_arn,
        Subject=alert.subject,
        Message=alert.body(),
        MessageAttributes={
            "org_id": {"DataType": "String", "StringValue": alert.org_id},
            "week_ending": {"DataType": "String", "StringValue": alert.week_ending.isoformat()},
            "dedupe_key": {
                "DataType": "String",
                "StringValue": f"{alert.org_id}:{alert.week_ending.isoformat()}"
                f":{alert.content_hash[:16]}",
            },
        },
    )
    return str(answer.get("MessageId", ""))
