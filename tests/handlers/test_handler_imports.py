"""What a scheduled handler loads, in a fresh interpreter: nothing at import beyond Powertools'
logger and metrics, and never the HTTP stack, even once its job module is loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.handlers.conftest import FUNCTIONS, JOB_FUNCTIONS

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
at_import = sorted(sys.modules)
# what an invocation adds: the event parser, the run loop, the engine factory, the job itself
from opsmetrics import events, jobs, runs, db
jobs.job(sys.argv[2]).load()
print(json.dumps({"at_import": at_import, "at_run": sorted(sys.modules)}))
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


@pytest.mark.parametrize("function", sorted(JOB_FUNCTIONS))
def test_scheduled_handler_imports(function: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(FUNCTIONS / function / "app.py"),
            JOB_FUNCTIONS[function],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(done.stdout)
    assert _loaded(modules["at_import"], HEAVY) == []
    assert "aws_lambda_powertools.metrics" in modules["at_import"]
    assert "aws_lambda_powertools.logging" in modules["at_import"]
    assert _loaded(modules["at_run"], HTTP_STACK) == []
    assert _loaded(modules["at_run"], ("alembic",)) == []
    assert "sqlalchemy" in modules["at_run"]
