"""The package's import graph, read from the source (nothing is imported): which package modules
each module imports, and whether at module level or inside a function (a deferred import, which
still is an arrow between the two modules)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "opsmetrics"


def module_name(path: Path, shared: Path) -> str:
    parts = list(path.relative_to(shared).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Nodes under `if TYPE_CHECKING:`: read by the type checker, never run."""
    hidden: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


def imports_of(path: Path, name: str, known: set[str]) -> dict[str, bool]:
    """The package modules `name` imports -> True when the import runs at module level."""
    tree = ast.parse(path.read_text())
    top_level = {id(n) for n in tree.body}
    hidden = _type_checking_only(tree)
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name, path.name == "__init__.py")
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith(PACKAGE):
                found[target] = found.get(target, False) or id(node) in top_level
    return found


def graph(shared: Path) -> dict[str, dict[str, bool]]:
    """Every module of the package under `shared` -> its imports of package modules. A package
    importing its own submodules is left out: that is how Python loads a package."""
    files = {module_name(p, shared): p for p in (shared / PACKAGE).rglob("*.py")}
    known = set(files)
    edges = {m: imports_of(p, m, known) for m, p in sorted(files.items())}
    return {
        m: {t: top for t, top in e.items() if not t.startswith(m + ".")} for m, e in edges.items()
    }


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's strongly
    connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def names_functions_folder(path: Path) -> bool:
    """Whether a module reaches for the repository's functions/ folder (the string "functions"),
    which the package must not do: the handlers import the package, never the other way."""
    tree = ast.parse(path.read_text())
    return any(isinstance(n, ast.Constant) and n.value == "functions" for n in ast.walk(tree))
