"""How easy the code is to carry on, measured: the figures issue #12 asks for, for any checkout.

    .venv/bin/python benchmarks/house_metrics.py                    # this checkout
    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/house_metrics.py --root /tmp/before  # an older one, same machine

Prints, for the checkout at --root:
  - the import graph of the opsmetrics package: circles (strongly connected groups of modules),
    counted once over every import and once over module-level imports only, and the imports
    that climb the layer order of tests/house/layers.py (this checkout's order, for both);
  - the largest modules (lines);
  - the repeated code left in the package (`duplicates`, when that command is on PATH);
  - the cold-start import of each Lambda handler: wall time in a fresh interpreter (median of
    --runs; noisy on a shared machine) and how many opsmetrics modules and modules in all it
    loads; with --instructions, the CPU instructions the import adds to the interpreter's start
    (valgrind's callgrind: a count, the same on a busy machine);
  - the package's bytes, in all and without the modules only the command line uses (the built
    layer and function sizes come from tests/infra/test_sam_build.py's sam build).
Nothing here needs a database.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
# The graph reader and the layer order are the tests' own (tests/house), from this checkout,
# applied to the sources of --root: the same yardstick for the old code and the new.
from tests.house import imports, layers  # noqa: E402

PACKAGE = imports.PACKAGE


def layer_breaks(g: dict[str, dict[str, bool]]) -> list[str]:
    return [f"{a} -> {b}" for a, b in layers.breaks({m: set(e) for m, e in g.items()})]


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


INSTRUCTION_PROBE = r"""
import importlib.util, sys
if sys.argv[1] != "-":
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    app = importlib.util.module_from_spec(spec)
    sys.modules["app"] = app
    spec.loader.exec_module(app)
"""


def _instructions(root: Path, target: str) -> int:
    """CPU instructions (valgrind's callgrind) of a fresh interpreter importing `target`, or
    nothing ("-"). Counted, not timed: the same code gives the same count on a busy machine."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = {
            "PYTHONPATH": str(root / "shared"),
            "AWS_DEFAULT_REGION": "eu-west-2",
            "PATH": "/usr/bin:/bin",
        }
        probe = ["-c", INSTRUCTION_PROBE, target]
        # once to write the bytecode caches, then counted (Lambda's layer ships compiled)
        subprocess.run([sys.executable, *probe], env=env, cwd=root, check=True)
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *probe],
            env=env,
            cwd=root,
            check=True,
            capture_output=True,
        )
        for line in out.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no summary")


def instruction_counts(root: Path) -> dict[str, int]:
    """Per handler: the instructions its import adds to a bare interpreter's start."""
    bare = _instructions(root, "-")
    return {
        app.parent.name: _instructions(root, str(app)) - bare
        for app in sorted((root / "functions").glob("*/app.py"))
    }


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
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each handler import's CPU instructions under valgrind (about a minute)",
    )
    args = parser.parse_args()
    root: Path = args.root.resolve()
    shared = root / "shared"

    g = imports.graph(shared)
    every = {m: set(e) for m, e in g.items()}
    top = {m: {t for t, at_top in e.items() if at_top} for m, e in g.items()}
    print(f"checkout: {root}")
    print(f"modules: {len(g)}, imports between them: {sum(len(e) for e in every.values())}")
    for label, edges in (("every import", every), ("module-level imports", top)):
        found = imports.circles(edges)
        print(f"circles over {label}: {len(found)}")
        for c in found:
            print("   ", " <-> ".join(c))
    breaks = layer_breaks(g)
    print(f"imports against the layer order (tests/house/layers.py): {len(breaks)}")
    for b in breaks:
        print("   ", b)
    unplaced = [m for m in g if layers.layer_of(m) is None]
    print(f"modules in no layer: {len(unplaced)}", *unplaced, sep="\n    ")
    climbs = [
        str(p.relative_to(shared))
        for p in (shared / PACKAGE).rglob("*.py")
        if imports.names_functions_folder(p)
    ]
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
    if args.instructions and shutil.which("valgrind"):
        print("instructions each handler's import adds to the interpreter's start (callgrind):")
        for name, count in instruction_counts(root).items():
            print(f"    {name:28s} {count / 1e6:9.1f} M")
    return 0


if __name__ == "__main__":
    sys.exit(main())
