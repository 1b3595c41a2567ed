"""The shapes the routing table is made of: a Route, a matched Call, and what every handler gets
from its front door (HandlerDeps). Handlers, the dashboard and the OpenAPI document import these;
none of them imports the table itself (routes.py), which imports them all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from opsmetrics.reports.auth import require_org
from opsmetrics.reports.messages import Identity, Request, Response
from opsmetrics.reports.params import Param

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from opsmetrics.config import Settings


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need from the outside world, supplied by each front door."""

    engine: Callable[[], Engine]
    settings: Callable[[], Settings]
    today: Callable[[], date]


@dataclass(frozen=True)
class Call:
    """One matched request: the route, the caller (None on public routes), checked parameters."""

    route: Route
    request: Request
    identity: Identity | None
    values: dict[str, Any]
    path: Mapping[str, str] = field(default_factory=dict)  # path parameters ({job})

    @property
    def org_id(self) -> uuid.UUID:
        """The caller's organization (report routes: `answer_route` has checked there is one)."""
        assert self.identity is not None, "report routes always have an identity"
        return require_org(self.identity)


Handler = Callable[[Call, HandlerDeps], Response]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    scope: str | None = None  # None: public
    report: str | None = None  # the report a report route serves
