"""ETags, Cache-Control and the in-process answer cache for report answers.

The figures change once a day (the jobs run nightly), so a client may reuse an answer for a few
minutes and revalidate it cheaply afterwards: the ETag is a strong hash of exactly what was sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache
from sqlalchemy import Connection, text

from opsmetrics.reports.messages import Response

if TYPE_CHECKING:
    from opsmetrics.config import HttpSettings

# Reports are per organization (private) and change daily; five minutes keeps dashboards fresh
# after a refresh without re-reading the database on every repaint.
REPORT_CACHE_CONTROL = "private, max-age=300"
# The OpenAPI document changes only with a deployment.
DOCUMENT_CACHE_CONTROL = "public, max-age=3600"
NO_STORE = "no-store"


def etag(body: str, content_type: str) -> str:
    """A strong validator: the same bytes of the same type give the same tag."""
    digest = hashlib.sha256()
    digest.update(content_type.encode())
    digest.update(b"\n")
    digest.update(body.encode())
    return f'"{digest.hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, current: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, a list of tags, or `*`."""
    if not if_none_match:
        return False
    wanted = _opaque(current)
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or (tag and _opaque(tag) == wanted):
            return True
    return False


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


# --- answers kept in process -----------------------------------------------------------------
#
# Building a report for an organization with 11,000 territories costs tens to hundreds of
# milliseconds, and many people look at the same report of the same day. A process (a Lambda
# container, a server worker) keeps rendered answers and reuses one only while
#   - the outputs' version for its organization is unchanged: the job_runs rows covering it
#     (count, latest finish), which change in the same transaction as the outputs (a refresh
#     included); another organization's refresh leaves them alone, and
#   - it is younger than ANSWER_MAX_AGE_S: other changes (a medic assigned to a territory) show
#     within the same five minutes a client may already cache the answer for.

# Same bound as the max-age clients are given.
ANSWER_MAX_AGE_S = 300
# A single answer larger than this share of the budget is not kept.
LARGEST_SHARE = 4

# Runs for every organization (org_id NULL) and runs limited to this one.
_VERSION_SQL = """
    SELECT count(*), max(finished_at) FROM job_runs WHERE org_id IS NULL
    UNION ALL
    SELECT count(*), max(finished_at) FROM job_runs WHERE org_id = :org
"""


def outputs_version(conn: Connection, org_id: uuid.UUID) -> tuple[Any, ...]:
    """Changes whenever a job run covering the organization commits or fails (and when the
    ledger is emptied); not when a run limited to another organization does."""
    rows = conn.execute(text(_VERSION_SQL), {"org": org_id}).all()
    return tuple(tuple(row) for row in rows)


@dataclass(frozen=True)
class _Entry:
    version: tuple[Any, ...]
    response: Response


def _size(entry: _Entry) -> int:
    return len(entry.response.body)


class AnswerCache:
    """Rendered report answers by key: cachetools' TTLCache (least recently used out first,
    each kept at most `max_age_s`, sized by body length), behind a lock for the server's
    threads, and dropped when their version moves on."""

    def __init__(self, max_bytes: int, max_age_s: float = ANSWER_MAX_AGE_S) -> None:
        self.max_bytes = max_bytes
        # The clock is looked up on each call, so tests can move it.
        self._entries: TTLCache[Hashable, _Entry] = TTLCache(
            maxsize=max(max_bytes, 1),
            ttl=max_age_s,
            timer=lambda: time.monotonic(),
            getsizeof=_size,
        )
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: HttpSettings) -> AnswerCache:
        """Memory for answers: settings.report_cache_mb (OPSMETRICS_REPORT_CACHE_MB; 0: off)."""
        return cls(settings.report_cache_mb * 1024 * 1024)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: Hashable, version: tuple[Any, ...]) -> Response | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version != version:
                del self._entries[key]
                entry = None
        if entry is None:
            return None
        kept = entry.response
        return Response(kept.status, kept.body, dict(kept.headers))

    def put(self, key: Hashable, version: tuple[Any, ...], response: Response) -> None:
        if not self.enabled or len(response.body) * LARGEST_SHARE > self.max_bytes:
            return
        kept = Response(response.status, response.body, dict(response.headers))
        with self._lock:
            self._entries[key] = _Entry(version, kept)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
