"""How easy the code is to carry on, measured: the figures issue #12 asks for, for any checkout.

    .venv/bin/python benchmarks/house_metrics.py                    # this checkout
    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/house_metrics.py --root /tmp/before  # an older one, same machine

Prints, for the checkout at --root:
  - the import graph of the opsmetrics package: circles (strongly connected groups of modules),
    counted once over every import and once over module-level imports only, and the imports
    that break the layer order of tests/house/layers.py when that file exists there;
  - the largest modules (lines);
  - the repeated code left in the package (`duplicates`, when that command is on PATH);
  - the cold-start import time of each Lambda handler (fresh interpreter, median of --runs,
    `python -X importtime`'s cumulative microseconds for the handler module) and how many
    opsmetrics modules and modules in all it loads;
  - the Lambda package: bytes of the opsmetrics modules the functions would ship and of the
    third-party layer requirements list (the built sizes come from tests/infra's sam build).
Nothing here needs a database.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
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


def imports_of(path: Path, name: str, known: set[str]) -> dict[str, bool]:
    """Imported package modules -> True when the import runs at module level."""
    tree = ast.parse(path.read_text())
    found: dict[str, bool] = {}
    top_level = {id(n) for n in tree.body}
    type_checking: set[int] = set()
    for n in tree.body:
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
            type_checking.update(id(x) for x in ast.walk(n))
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue  # for the type checker only: never runs
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name, path.name == "__init__.py")
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith(PACKAGE):
                found[t] = found.get(t, False) or id(node) in top_level
    return found


def graph(shared: Path) -> dict[str, dict[str, bool]]:
    files = {module_name(p, shared): p for p in (shared / PACKAGE).rglob("*.py")}
    known = set(files)
    return {m: imports_of(p, m, known) for m, p in sorted(files.items())}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def _without_packages(g: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """A package's __init__ importing its own modules is not a circle of interest: drop
    edges from a package to its own children (they are how Python loads packages)."""
    return {m: {t: top for t, top in e.items() if not t.startswith(m + ".")} for m, e in g.items()}


def layer_breaks(root: Path, g: dict[str, dict[str, bool]]) -> list[str] | None:
    spec = root / "tests" / "house" / "layers.py"
    if not spec.exists():
        return None
    sys.path.insert(0, str(root))
    try:
        from tests.house import layers  # type: ignore[import-not-found,unused-ignore]
    finally:
        sys.path.pop(0)
    return [f"{a} -> {b}" for a, b in layers.breaks({m: set(e) for m, e in g.items()})]


def _names_functions_folder(package: Path, module: str) -> bool:
    """Whether a module reaches for the repository's functions/ folder (a string "functions")."""
    rel = module.removeprefix(PACKAGE).lstrip(".").replace(".", "/")
    path = package / rel / "__init__.py" if (package / rel).is_dir() else package / f"{rel}.py"
    tree = ast.parse(path.read_text())
    return any(isinstance(n, ast.Constant) and n.value == "functions" for n in ast.walk(tree))


def largest(shared: Path, most: int) -> list[tuple[int, str]]:
    sizes = [
        (len(p.read_text().splitlines()), str(p.relative_to(shared)))
        for p in (shared / PACKAGE).rglob("*.py")
    ]
    return sorted(sizes, reverse=True)[:most]


def duplicate_pairs(shared: Path) -> str:
    if not shutil.which("duplicates"):
        return "duplicates: not on PATH"
    out = subprocess.run(
        ["duplicates", "--repo", str(shared / PACKAGE), "--most", "1", "--seconds", "120"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return out.splitlines()[0] if out else "duplicates: no output"


PROBE = r"""
import importlib.util, json, sys, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
sys.modules["app"] = app
spec.loader.exec_module(app)
wall = time.perf_counter() - t0
mods = sorted(sys.modules)
print(json.dumps({"wall_ms": wall * 1000, "modules": len(mods),
                  "package": len([m for m in mods if m.startswith("opsmetrics")])}))
"""


def cold_starts(root: Path, runs: int) -> dict[str, dict[str, float]]:
    env_path = str(root / "shared")
    result: dict[str, dict[str, float]] = {}
    for app in sorted((root / "functions").glob("*/app.py")):
        samples = []
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", PROBE, str(app)],
                capture_output=True,
                text=True,
                check=True,
                env={
                    "PYTHONPATH": env_path,
                    "PYTHONDONTWRITEBYTECODE": "0",
                    "AWS_DEFAULT_REGION": "eu-west-2",
                    "PATH": "/usr/bin:/bin",
                },
                cwd=root,
            )
            samples.append(json.loads(done.stdout))
        result[app.parent.name] = {
            "median_ms": statistics.median(s["wall_ms"] for s in samples),
            "modules": samples[-1]["modules"],
            "package_modules": samples[-1]["package"],
        }
    return result


def lambda_code_bytes(shared: Path) -> tuple[int, int]:
    """(bytes of every .py and asset in the package, bytes without what only the CLI uses)."""
    local_only = (
        "seed/",
        "migrations/",
        "demo.py",
        "embedded.py",
        "local_invoke.py",
        "local_cli.py",
        "cli.py",
        "cli_errors.py",
        "orgs_cli.py",
        "ledger_cli.py",
    )
    total = lean = 0
    for p in (shared / PACKAGE).rglob("*"):
        if not p.is_file() or "__pycache__" in p.parts:
            continue
        rel = str(p.relative_to(shared / PACKAGE))
        total += p.stat().st_size
        if not rel.startswith(local_only):
            lean += p.stat().st_size
    return total, lean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to measure")
    parser.add_argument("--runs", type=int, default=7, help="cold starts per handler")
    parser.add_argument("--most", type=int, default=10, help="how many of the largest modules")
    args = parser.parse_args()
    root: Path = args.root.resolve()
    shared = root / "shared"

    g = graph(shared)
    g = _without_packages(g)
    every = {m: set(e) for m, e in g.items()}
    top = {m: {t for t, at_top in e.items() if at_top} for m, e in g.items()}
    print(f"checkout: {root}")
    print(f"modules: {len(g)}, imports between them: {sum(len(e) for e in every.values())}")
    for label, edges in (("every import", every), ("module-level imports", top)):
        found = circles(edges)
        print(f"circles over {label}: {len(found)}")
        for c in found:
            print("   ", " <-> ".join(c))
    breaks = layer_breaks(root, g)
    if breaks is None:
        print("layer order: no tests/house/layers.py in this checkout")
    else:
        print(f"imports against the layer order: {len(breaks)}")
        for b in breaks:
            print("   ", b)
    climbs = [m for m in g if _names_functions_folder(shared / PACKAGE, m)]
    print(f"package modules that load functions/*/app.py: {len(climbs)}", *climbs, sep="\n    ")
    print(f"largest modules (lines), top {args.most}:")
    for lines, name in largest(shared, args.most):
        print(f"    {lines:5d}  {name}")
    print(f"repeated code in the package: {duplicate_pairs(shared)}")
    total, lean = lambda_code_bytes(shared)
    print(f"package bytes: {total} in all, {lean} without the command line's own modules")
    print(f"cold-start import of each handler (median of {args.runs}):")
    for name, figures in cold_starts(root, args.runs).items():
        print(
            f"    {name:28s} {figures['median_ms']:7.1f} ms  "
            f"{figures['package_modules']:3d} opsmetrics modules, {figures['modules']} in all"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
