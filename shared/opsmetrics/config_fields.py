"""How a setting is declared and read: one `EnvVar` per environment variable (its name, how its
text becomes a value, its default as the docs show it, its meaning), attached to a dataclass field.

config.py declares the settings with `whole`, `text`, ... ; a field whose default_factory is
itself such a dataclass is a section (settings.auth, settings.http). `read` fills a settings
dataclass from an environment; `env_vars` lists what it declares (for the docs and their test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from opsmetrics.errors import ConfigError

T = TypeVar("T")

_VAR = "opsmetrics.env_var"


@dataclass(frozen=True)
class EnvVar:
    name: str
    description: str  # one line, as the README's table shows it
    shown_default: str  # the default as the README's table shows it
    # (name, stripped non-empty text) -> value; None: another library reads it (Powertools),
    # declared here so the docs list it.
    parse: Callable[[str, str], Any] | None = None


def _whole(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _text(name: str, raw: str) -> str:
    return raw


def _declare(var: EnvVar, default: Any) -> Any:
    return field(default=default, metadata={_VAR: var})


def whole(name: str, default: int, description: str, *, shown: str | None = None) -> int:
    """A whole number, not negative; unset or blank: `default`."""
    shown = str(default) if shown is None else shown
    value: int = _declare(EnvVar(name, description, shown, _whole), default)
    return value


def whole_or_none(name: str, description: str, *, shown: str) -> int | None:
    """A whole number, not negative; unset, blank or 0: None (the default is worked out)."""

    def parse(name: str, raw: str) -> int | None:
        return _whole(name, raw) or None

    value: int | None = _declare(EnvVar(name, description, shown, parse), None)
    return value


def text(name: str, description: str, *, shown: str = "none") -> str | None:
    """Text; unset or blank: None."""
    value: str | None = _declare(EnvVar(name, description, shown, _text), None)
    return value


def text_or(name: str, default: str, description: str) -> str:
    """Text; unset or blank: `default`."""
    value: str = _declare(EnvVar(name, description, f"`{default}`", _text), default)
    return value


def path(name: str, default: Path, description: str) -> Path:
    """A file-system path; unset or blank: `default`."""

    def parse(name: str, raw: str) -> Path:
        return Path(raw)

    value: Path = _declare(EnvVar(name, description, f"`{default}`", parse), default)
    return value


def _section(f: Field[Any]) -> type[Any] | None:
    factory = f.default_factory
    return factory if factory is not MISSING and is_dataclass(factory) else None


def read(cls: type[T], env: Mapping[str, str]) -> T:
    """`cls` with every declared variable `env` sets; ConfigError naming a variable whose
    value cannot be read."""
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        var = f.metadata.get(_VAR)
        section = _section(f)
        if isinstance(var, EnvVar) and var.parse is not None:
            raw = env.get(var.name, "").strip()
            if raw:
                values[f.name] = var.parse(var.name, raw)
        elif section is not None:
            values[f.name] = read(section, env)
    return cls(**values)


def declarations(cls: type[Any]) -> Iterator[tuple[Field[Any], EnvVar]]:
    """Every declared field of `cls` with its variable, its sections' included, in order."""
    for f in fields(cls):
        var = f.metadata.get(_VAR)
        section = _section(f)
        if isinstance(var, EnvVar):
            yield f, var
        elif section is not None:
            yield from declarations(section)


def env_vars(cls: type[Any]) -> Iterator[EnvVar]:
    """Every variable `cls` declares, its sections' included, in declaration order."""
    return (var for _, var in declarations(cls))


def markdown_table(variables: Iterator[EnvVar] | list[EnvVar]) -> str:
    """The README's table of settings."""
    lines = ["| variable | meaning | default |", "|---|---|---|"]
    lines += [f"| `{v.name}` | {v.description} | {v.shown_default} |" for v in variables]
    return "\n".join(lines) + "\n"
