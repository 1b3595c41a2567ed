"""What a scheduled handler loads, in a fresh interpreter: nothing at import beyond Powertools'
logger and metrics, and never the HTTP stack, even once its job module is loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.conftest import FUNCTIONS, JOB_FUNCTIONS

PROBE = """
import importlib.util, json, sys
sys.path[:0] = json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
at_import = sorted(sys.modules)
# what an invocation adds: the event parser, the run loop, the engine factory, the job itself
from opsmetrics import events, jobs, runs, db
jobs.job(sys.argv[2]).load()
files = {m: getattr(sys.modules[m], "__file__", None) for m in ("opsmetrics", "sqlalchemy")}
print(json.dumps({"at_import": at_import, "at_run": sorted(sys.modules), "files": files}))
"""
HTTP_STACK = (
    "aws_lambda_powertools.event_handler",
    "functions_framework",
    "flask",
    "werkzeug",
    "jwt",
    "opsmetrics.reports.routes",
)
# Left for the first invocation, so that a bad event is refused without loading them.
HEAVY = ("sqlalchemy", "pg8000", "opsmetrics.runs", "opsmetrics.db", "boto3", "alembic")


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.startswith(prefixes)]


def probe(app: Path, job: str, only: Sequence[Path] = ()) -> dict[str, Any]:
    """Load the handler in `app` in a fresh interpreter, then what its first run of `job` loads:
    the modules at each step, and the files opsmetrics and sqlalchemy came from. With `only`,
    modules come from those folders and the standard library alone (as in Lambda)."""
    isolated = ["-I", "-S", "-B"] if only else []  # -B: the build stays as built
    done = subprocess.run(
        [sys.executable, *isolated, "-c", PROBE, str(app), job, json.dumps([str(p) for p in only])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def check_scheduled_imports(modules: dict[str, Any]) -> None:
    """Nothing heavy at import, and never the HTTP stack or alembic, even once the job runs."""
    assert _loaded(modules["at_import"], HEAVY) == []
    assert "aws_lambda_powertools.metrics" in modules["at_import"]
    assert "aws_lambda_powertools.logging" in modules["at_import"]
    assert _loaded(modules["at_run"], HTTP_STACK) == []
    assert _loaded(modules["at_run"], ("alembic",)) == []
    assert "sqlalchemy" in modules["at_run"]


@pytest.mark.parametrize("function", sorted(JOB_FUNCTIONS))
def test_scheduled_handler_imports(function: str) -> None:
    check_scheduled_imports(probe(FUNCTIONS / function / "app.py", JOB_FUNCTIONS[function]))
