"""Each trends rule has one home: the hotspot rule in hotspots.py, which values count in
values.py, the report's figures in figures.py. No other module that computes or serves the
figures names their constants or the flagged topics, so a second spelling fails here."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

from opsmetrics.trends import figures, hotspots, values

PACKAGE = Path(hotspots.__file__).parents[1]
SCANNED = ("territory", "trends", "reports")
HOMES: dict[str, ModuleType] = {
    "trends/hotspots.py": hotspots,
    "trends/values.py": values,
    "trends/figures.py": figures,
}


def _constants(module: ModuleType) -> list[str]:
    """The module's own constants (assigned in it, not imported)."""
    source = Path(str(module.__file__)).read_text(encoding="utf-8")
    assigned = set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*(?::[^=\n]*)?=", source, re.MULTILINE))
    return [
        name
        for name, value in vars(module).items()
        if name in assigned
        and isinstance(value, int | float | str | tuple)
        and not isinstance(value, bool)
    ]


def _modules() -> dict[str, str]:
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for folder in SCANNED
        for path in sorted((PACKAGE / folder).rglob("*.py"))
    }


def test_the_constants_and_modules_are_found() -> None:
    assert {"MIN_MESSAGES", "RATIO_NUMERATOR", "FLAGGED_TOPICS"} <= set(_constants(hotspots))
    assert {"LOWEST_CONFIDENCE", "HIGHEST_CONFIDENCE"} <= set(_constants(values))
    assert "trends/sql.py" in _modules()


def test_no_module_names_another_home_s_constants() -> None:
    named = {
        (module, name)
        for home, rule in HOMES.items()
        for name in _constants(rule)
        for module, source in _modules().items()
        if module != home and re.search(rf"\b{name}\b", source)
    }
    assert named == set(), "derive from the rule's home module (e.g. hotspots.HOTSPOT_PARAMS)"


def test_no_module_spells_the_flagged_topics() -> None:
    spelled = {
        (module, topic)
        for topic in hotspots.FLAGGED_TOPICS
        for module, source in _modules().items()
        if module != "trends/hotspots.py" and re.search(rf"['\"]{topic}['\"]", source)
    }
    assert spelled == set()
