"""Cold-start cost of the Lambda handlers, and the size of what is deployed.

    flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_cold_start.py

Printed in one run:
- per handler, in a fresh interpreter each time (median of --runs):
  - deps:     importing the third-party packages its invocation needs (the baseline);
  - import:   `import app` alone (what the Lambda init phase does);
  - cold run: `import app` plus everything its first invocation imports (event parser, run
              loop, engine factory, the job module, the secret reader) - compared with deps;
  each twice: with this machine's bytecode cache ("pyc"), and from a copy of the layer's
  packages without bytecode ("none": what a layer built without Python 3.13 is like - /opt is
  read-only, so every cold start compiles each module it imports; the standard library and
  boto3 keep their bytecode, as in the runtime);
- whether a scheduled handler, with its job loaded, has imported the HTTP stack;
- the built layer's and functions' unzipped (and zipped) sizes, from `sam build` into a temp dir.
Targets: the handler's own code adds at most 20% to its dependencies' import time; scheduled
handlers import neither the HTTP event handler nor functions-framework; layer under 50 MB.

Timings are CPython on this machine (x86_64), not Lambda's arm64 3.13: compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN_CODE_BUDGET = 0.20  # the handler's own code may add at most 20% to its deps' import time
LAYER_LIMIT_BYTES = 50 * 1024 * 1024

# What an invocation of every handler needs from outside the project: the database stack and
# Powertools' logger, metrics and secret reader (which brings boto3, as in Lambda).
COMMON_DEPS = """
import sqlalchemy, sqlalchemy.dialects.postgresql.pg8000, pg8000
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities import parameters
"""
REPORTS_DEPS = (
    COMMON_DEPS + "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
)

LOAD_APP = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("app", {path!r})
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
"""
FIRST_RUN = """
from opsmetrics import events, jobs, runs, db
from aws_lambda_powertools.utilities import parameters
import sqlalchemy.dialects.postgresql.pg8000
jobs.job({job!r}).load()
"""
REPORTS_FIRST_RUN = """
from opsmetrics import runs, db
from aws_lambda_powertools.utilities import parameters
import sqlalchemy.dialects.postgresql.pg8000
"""
TIMED = """
import time
_t0 = time.perf_counter()
{body}
_elapsed = time.perf_counter() - _t0
import json, sys
http = [m for m in sys.modules if m.startswith(
    ("aws_lambda_powertools.event_handler", "functions_framework", "flask", "werkzeug"))]
origins = [sys.modules[m].__file__ for m in ("sqlalchemy", "aws_lambda_powertools", "opsmetrics")
           if m in sys.modules]
print(json.dumps({{"seconds": _elapsed, "http": sorted(http), "origins": origins}}))
"""


@dataclass(frozen=True)
class Handler:
    function: str
    job: str | None  # None: the HTTP reports function

    @property
    def path(self) -> Path:
        return ROOT / "functions" / self.function / "app.py"


HANDLERS = [
    Handler("daily_territory_metrics", "daily-territory-metrics"),
    Handler("weekly_hiring_triggers", "weekly-hiring-triggers"),
    Handler("daily_trend_aggregation", "daily-trend-aggregation"),
    Handler("reports", None),
]


# What a function runs with: the layer's top-level modules (infra/layer/requirements.txt) and
# the opsmetrics package, which ships in each function's own package (infra/functions/Makefile).
LAYER_MODULES = [
    "sqlalchemy",
    "pg8000",
    "scramp",
    "asn1crypto",
    "dateutil",
    "six",
    "typing_extensions",
    "aws_lambda_powertools",
    "opsmetrics",
]


def layer_copy(target: Path) -> Path:
    """This machine's builds of the layer's packages, without any bytecode."""
    site = target / "python"
    site.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations")
    for name in LAYER_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            sys.exit(f"{name} is not installed in this environment")
        if spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations)))
            shutil.copytree(source, site / name, ignore=skip)
        else:
            shutil.copy2(spec.origin, site / Path(spec.origin).name)
    return site


def time_imports(
    bodies: list[str], runs: int, *, no_bytecode_site: Path | None = None
) -> list[tuple[float, list[str]]]:
    """Per body: median seconds it takes in a fresh interpreter, and the HTTP modules it loaded.
    The bodies are timed in turn within each round, so a busy moment hits all of them alike."""
    samples: list[list[float]] = [[] for _ in bodies]
    http: list[list[str]] = [[] for _ in bodies]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if no_bytecode_site is not None:
        env["PYTHONPATH"] = str(no_bytecode_site)  # ahead of site-packages and the editable path
    for _ in range(runs):
        for index, body in enumerate(bodies):
            done = subprocess.run(
                [sys.executable, "-c", TIMED.format(body=body)],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                check=False,
            )
            if done.returncode != 0:
                sys.exit(f"probe failed:\n{done.stderr[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if no_bytecode_site is not None:
                stray = [o for o in result["origins"] if not o.startswith(str(no_bytecode_site))]
                if stray:
                    sys.exit(f"imported from outside the bytecode-free copy: {stray}")
            samples[index].append(result["seconds"])
            http[index] = result["http"]
    return [(statistics.median(s), h) for s, h in zip(samples, http, strict=True)]


def warm_bytecode_cache(handlers: list[Handler]) -> None:
    """Compile everything once so the 'bytecode' column measures imports, not compilation."""
    for h in handlers:
        body = LOAD_APP.format(path=str(h.path)) + (
            FIRST_RUN.format(job=h.job) if h.job else REPORTS_FIRST_RUN
        )
        subprocess.run(
            [sys.executable, "-c", COMMON_DEPS + REPORTS_DEPS + body], check=True, cwd=ROOT
        )


def measure(runs: int, no_bytecode_site: Path) -> bool:
    ok = True
    warm_bytecode_cache(HANDLERS)
    print(f"import times, median of {runs} fresh interpreters (ms)")
    header = (
        f"{'handler':<26}{'cache':<10}{'deps':>8}{'import':>9}{'cold run':>10}"
        f"{'own code':>10}  http stack"
    )
    print(header)
    print("-" * len(header))
    for h in HANDLERS:
        deps_body = REPORTS_DEPS if h.job is None else COMMON_DEPS
        app_body = LOAD_APP.format(path=str(h.path))
        run_body = app_body + (FIRST_RUN.format(job=h.job) if h.job else REPORTS_FIRST_RUN)
        for bytecode in (True, False):
            site = None if bytecode else no_bytecode_site
            (deps, _), (imported, _), (cold, http) = time_imports(
                [deps_body, app_body, run_body], runs, no_bytecode_site=site
            )
            own = (cold - deps) / deps
            scheduled = h.job is not None
            http_note = ("none" if not http else ", ".join(http[:2])) if scheduled else "(HTTP)"
            within = own <= OWN_CODE_BUDGET
            ok = ok and within and (not scheduled or not http)
            print(
                f"{h.function:<26}{'pyc' if bytecode else 'none':<10}{deps * 1000:>8.0f}"
                f"{imported * 1000:>9.0f}{cold * 1000:>10.0f}{own:>+10.0%}  {http_note}"
                + ("" if within else f"  OVER {OWN_CODE_BUDGET:.0%}")
            )
    return ok


def human(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def tree_size(path: Path) -> tuple[int, int]:
    """(unzipped bytes, zipped bytes) of a folder, zipped as sam package would."""
    files = [p for p in sorted(path.rglob("*")) if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for p in files:
            archive.write(p, p.relative_to(path))
    return raw, len(buffer.getvalue())


def sizes(sam: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
        subprocess.run(
            [str(sam), "build", "--build-dir", str(build)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        print("\nbuilt artifacts (sam build)             unzipped      zipped")
        ok = True
        for folder in sorted(p for p in build.iterdir() if p.is_dir()):
            raw, zipped = tree_size(folder)
            limit = folder.name == "DependenciesLayer"
            within = raw < LAYER_LIMIT_BYTES if limit else True
            ok = ok and within
            print(
                f"{folder.name:<36}{human(raw):>10}{human(zipped):>12}"
                + ("  (limit 50 MiB)" if limit else "")
                + ("" if within else "  OVER")
            )
        site = build / "DependenciesLayer" / "python"
        biggest = sorted(
            ((tree_size(p)[0] if p.is_dir() else p.stat().st_size, p.name) for p in site.iterdir()),
            reverse=True,
        )[:5]
        print("largest in the layer: " + ", ".join(f"{n} {human(b)}" for b, n in biggest))
        return ok


def find_sam() -> Path | None:
    configured = os.environ.get("OPSMETRICS_SAM")
    candidates = [Path(configured)] if configured else []
    candidates.append(ROOT / ".venv-sam" / "bin" / "sam")
    on_path = shutil.which("sam")
    if on_path:
        candidates.append(Path(on_path))
    return next((c for c in candidates if c.is_file()), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per figure")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} on {os.uname().machine}\n")
    with tempfile.TemporaryDirectory() as tmp:
        ok = measure(args.runs, layer_copy(Path(tmp)))
    sam = find_sam()
    if sam is None:
        print("\nsizes skipped: no SAM CLI (python3 dev.py test creates .venv-sam)")
    else:
        ok = sizes(sam) and ok
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
