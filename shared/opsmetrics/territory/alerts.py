"""SNS messages for critical hiring triggers: one message per organization and week.

The client is made once per process (and region), on first use, never at import. Delivery is
at least once: a rerun of the weekly job publishes again; `dedupe_key` (org:week) lets a
consumer drop repeats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

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
            }
        )


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

    client: SNSClient = boto3.client("sns", region_name=region)
    return client


@dataclass
class PublishResult:
    published: int
    failed_orgs: list[str]


def publish(topic_arn: str, alerts: Iterable[OrgAlert]) -> PublishResult:
    """Publish each alert; one organization's failure is logged and does not stop the others."""
    from botocore.exceptions import BotoCoreError, ClientError

    from opsmetrics.observability import logger

    result = PublishResult(0, [])
    client = None
    for alert in alerts:
        try:
            client = client or sns_client(topic_region(topic_arn))
            client.publish(
                TopicArn=topic_arn,
                Subject=alert.subject,
                Message=alert.body(),
                MessageAttributes={
                    "org_id": {"DataType": "String", "StringValue": alert.org_id},
                    "week_ending": {
                        "DataType": "String",
                        "StringValue": alert.week_ending.isoformat(),
                    },
                    "dedupe_key": {
                        "DataType": "String",
                        "StringValue": f"{alert.org_id}:{alert.week_ending.isoformat()}",
                    },
                },
            )
            result.published += 1
        except (BotoCoreError, ClientError) as exc:
            logger().warning(
                "hiring alert not published",
                extra={"org_id": alert.org_id, "error": f"{type(exc).__name__}: {exc}"},
            )
            result.failed_orgs.append(alert.org_id)
    return result
