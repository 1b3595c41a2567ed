"""An organization named by a caller: parsed once, and checked to exist before anything runs."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from opsmetrics.errors import BadRequest


def parse_org_id(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise BadRequest(f"organization id must be a UUID, got {value!r}") from None


def org_exists(engine: Engine, org_id: uuid.UUID) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM organizations WHERE id = :id"), {"id": org_id}
        ).first()
    return found is not None


def check_org_exists(engine: Engine, org_id: uuid.UUID) -> None:
    if not org_exists(engine, org_id):
        raise BadRequest(f"unknown organization {org_id}")
