"""Query parameters, declared once: parsed and checked here, described in /openapi.json from the
same declarations. Every refusal is a BadRequest whose message starts with the parameter's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from opsmetrics.dates import parse_date
from opsmetrics.errors import BadRequest

Kind = Literal["date", "string", "integer", "boolean", "choice"]

# Dates outside this span are typing mistakes, and date arithmetic near year 1 or 9999 would
# overflow; refusing them keeps a bad date a 400 rather than a 500.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)
# Longest text value we accept (region names, cursors); anything longer is not one of ours.
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    description: str
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> Any:
        value = raw.strip()
        if self.kind == "date":
            return _date(self.name, value)
        if self.kind == "integer":
            return self._integer(value)
        if self.kind == "boolean":
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise BadRequest(f"{self.name} must be true or false, got {_show(raw)}")
        if self.kind == "choice":
            lowered = value.lower()
            if lowered not in self.choices:
                raise BadRequest(
                    f"{self.name} must be one of {', '.join(self.choices)}, got {_show(raw)}"
                )
            return lowered
        return _text(self.name, value)

    def _integer(self, value: str) -> int:
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise BadRequest(f"{self.name} must be a whole number, got {_show(value)}")
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise BadRequest(f"{self.name} must be at least {self.minimum}, got {number}")
        if self.maximum is not None and number > self.maximum:
            raise BadRequest(f"{self.name} must be at most {self.maximum}, got {number}")
        return number

    def schema(self) -> dict[str, Any]:
        """The OpenAPI schema of this parameter."""
        out: dict[str, Any]
        if self.kind == "date":
            out = {"type": "string", "format": "date"}
        elif self.kind == "integer":
            out = {"type": "integer"}
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        elif self.kind == "boolean":
            out = {"type": "boolean"}
        elif self.kind == "choice":
            out = {"type": "string", "enum": list(self.choices)}
        else:
            out = {"type": "string", "maxLength": MAX_TEXT}
        if self.default is not None:
            out["default"] = self.default
        return out


def _show(raw: str) -> str:
    """A bad value quoted back safely and briefly."""
    return repr(raw[:40] + ("..." if len(raw) > 40 else ""))


def _date(name: str, value: str) -> date:
    try:
        day = parse_date(value, name)
    except BadRequest:
        raise BadRequest(f"{name} must be a date as YYYY-MM-DD, got {_show(value)}") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise BadRequest(f"{name} must be between {EARLIEST_DATE} and {LATEST_DATE}, got {day}")
    return day


def _text(name: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{name} is too long (at most {MAX_TEXT} characters)")
    if _CONTROL.search(value):
        raise BadRequest(f"{name} must not contain control characters")
    return value


def parse_params(query: Mapping[str, list[str]], params: Sequence[Param]) -> dict[str, Any]:
    """Every declared parameter's value (its default when absent or empty); nothing else allowed.

    An empty value (`?date=`) counts as absent, so templated links work. A parameter given twice
    is refused rather than guessed at.
    """
    declared = {p.name: p for p in params}
    unknown = sorted(set(query) - set(declared))
    if unknown:
        allowed = ", ".join(declared) or "none"
        raise BadRequest(
            f"{_show(unknown[0])} is not a parameter of this route (it takes: {allowed})"
        )
    values: dict[str, Any] = {}
    for name, param in declared.items():
        given = query.get(name, [])
        if len(given) > 1:
            raise BadRequest(f"{name} is given {len(given)} times; give it once")
        raw = given[0] if given else ""
        values[name] = param.parse(raw) if raw.strip() else param.default
    return values


def match_path(template: str, path: str) -> dict[str, str] | None:
    """The path parameters when `path` fits `template` (`/jobs/{job}/runs`), else None. A
    parameter is one non-empty segment."""
    want, got = template.split("/"), path.split("/")
    if len(want) != len(got):
        return None
    found: dict[str, str] = {}
    for pattern, segment in zip(want, got, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            if not segment:
                return None
            found[pattern[1:-1]] = segment
        elif pattern != segment:
            return None
    return found
