"""The package's arrows: no circles, nothing importing a layer above its own, every module placed
in a layer, and nothing reaching for the functions/ folder. Read from the source: no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.house import imports, layers

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return {m: set(e) for m, e in imports.graph(SHARED).items()}


def test_no_circles(graph: dict[str, set[str]]) -> None:
    # Deferred imports (inside a function) count: they are arrows too, only later.
    assert imports.circles(graph) == [], (
        "modules that import each other: move what both need down a layer (docs/house.md, Layers)"
    )


def _layer_name(module: str) -> str:
    rank = layers.layer_of(module)
    return "no layer" if rank is None else layers.LAYERS[rank][0]


def test_no_import_climbs_a_layer(graph: dict[str, set[str]]) -> None:
    climbs = [f"{a} ({_layer_name(a)}) -> {b} ({_layer_name(b)})" for a, b in layers.breaks(graph)]
    assert climbs == [], (
        "an import climbs a layer: move the piece both need down, or the module up"
        " (tests/house/layers.py; docs/house.md, Add a module)"
    )


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    assert [m for m in graph if layers.layer_of(m) is None] == [], (
        "a module in no layer: add it to tests/house/layers.py and docs/house.md's table"
        " (docs/house.md, Add a module)"
    )


def test_the_package_never_loads_the_handler_files() -> None:
    reaching = [
        str(p.relative_to(SHARED))
        for p in (SHARED / imports.PACKAGE).rglob("*.py")
        if imports.names_functions_folder(p)
    ]
    assert reaching == []


def test_the_checks_see_what_they_look_for() -> None:
    """The checks above on a made-up graph: a circle, a climb, an unplaced module."""
    made_up = {
        "opsmetrics.runs": {"opsmetrics.errors", "opsmetrics.cli"},
        "opsmetrics.cli": {"opsmetrics.runs"},
        "opsmetrics.errors": set(),
        "opsmetrics.somewhere_new": set(),
    }
    assert imports.circles(made_up) == [["opsmetrics.cli", "opsmetrics.runs"]]
    assert layers.breaks(made_up) == [("opsmetrics.runs", "opsmetrics.cli")]
    assert layers.layer_of("opsmetrics.somewhere_new") is None


def test_deferred_and_type_checking_imports_are_told_apart(tmp_path: Path) -> None:
    package = tmp_path / "opsmetrics"
    package.mkdir()
    for name in ("__init__", "a", "b", "c", "d"):
        (package / f"{name}.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from opsmetrics import b\n"
        "if TYPE_CHECKING:\n    from opsmetrics.c import x\n"
        "def f():\n    from . import d\n"
    )
    assert imports.graph(tmp_path)["opsmetrics.a"] == {"opsmetrics.b": True, "opsmetrics.d": False}


def test_the_house_page_lists_the_layers_in_order() -> None:
    """docs/house.md's table of layers is the order layers.py enforces."""
    page = (SHARED.parent / "docs" / "house.md").read_text(encoding="utf-8")
    table = page[page.index("| layer | holds | modules |") :].split("\n\n", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    assert rows == [name for name, _, _ in layers.LAYERS]
