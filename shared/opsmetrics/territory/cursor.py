"""The opaque cursor of the territories report's pages."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date

from opsmetrics.errors import BadRequest


@dataclass(frozen=True)
class Cursor:
    """Where the next page of territories starts: after (sector, territory id) on one date."""

    day: date
    postcode_sector: str
    territory_id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.day.isoformat(), self.postcode_sector, str(self.territory_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            day, sector, territory = json.loads(raw)
            # A sector is printable text; a NUL would only reach PostgreSQL as an error.
            if not isinstance(sector, str) or not sector.isprintable():
                raise ValueError(sector)
            return cls(date.fromisoformat(day), sector, uuid.UUID(territory))
        except (binascii.Error, ValueError, TypeError, AttributeError):
            raise BadRequest(
                "cursor is not one this report gave out; start again without it"
            ) from None
