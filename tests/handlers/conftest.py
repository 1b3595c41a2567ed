"""Shared fixtures for the Lambda handler tests: the deployed environment, clean Powertools
state, the sample events of infra/events and the handlers loaded as Lambda loads them."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics.provider import cold_start
from sqlalchemy import Engine

from opsmetrics.jobs import JOBS
from opsmetrics.local_invoke import Handler, LocalContext
from opsmetrics.observability import logger, metrics

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "infra" / "events"
FUNCTIONS = ROOT / "functions"
JOB_FUNCTIONS = {job.folder: job.name for job in JOBS.values()}  # the job model's folders


def load_event(function: str, name: str) -> Any:
    """infra/events/<function>/<name>.json, parsed."""
    return json.loads((EVENTS / function / f"{name}.json").read_text(encoding="utf-8"))


def event_names(function: str) -> list[str]:
    return sorted(p.stem for p in (EVENTS / function).glob("*.json"))


def load_app(function: str) -> ModuleType:
    """functions/<function>/app.py, loaded from its file as Lambda loads it."""
    path = FUNCTIONS / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"opsmetrics_test_{function}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def handler(function: str) -> Handler:
    """functions/<function>/app.py's lambda_handler, loaded from its file (as Lambda does)."""
    found: Handler = load_app(function).lambda_handler
    return found


@dataclass
class Outputs:
    """What the handler printed: EMF metric documents (stdout) and JSON log lines."""

    stdout: str
    logs: list[dict[str, Any]] = field(default_factory=list)

    def metric_docs(self) -> list[dict[str, Any]]:
        docs = []
        for line in self.stdout.splitlines():
            if line.startswith("{") and '"_aws"' in line:
                docs.append(json.loads(line))
        return docs

    def metric(self, name: str) -> list[float]:
        """Every value emitted for metric `name` (one per flush that had it)."""
        values: list[float] = []
        for doc in self.metric_docs():
            if name in doc:
                value = doc[name]
                values.extend(value if isinstance(value, list) else [value])
        return values


@dataclass
class Lambda:
    """Invoke a handler like the runtime does; collects its metrics and logs."""

    engine: Engine  # the test database (emptied), for arranging and reading rows
    capsys: pytest.CaptureFixture[str]
    log_stream: io.StringIO

    def invoke(self, function: str, event: Any) -> Any:
        context = LocalContext(function_name=f"opsmetrics-{function.replace('_', '-')}")
        return handler(function)(event, context)

    def outputs(self) -> Outputs:
        out = self.capsys.readouterr().out
        lines = [json.loads(line) for line in self.log_stream.getvalue().splitlines() if line]
        self.log_stream.seek(0)
        self.log_stream.truncate()
        return Outputs(out, lines)


@pytest.fixture
def lambda_env(
    db_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Lambda]:
    """The database of `db_env` plus what the template gives a job function; Powertools state
    (metrics, cold-start flag, logger keys) reset, and the JSON logs captured."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "opsmetrics-test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "opsmetrics")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Opsmetrics")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.delenv("HIRING_ALERTS_TOPIC_ARN", raising=False)
    m = metrics()
    m.clear_metrics()
    # A fresh container: both Powertools cold-start flags (metrics' and the logger's) set.
    monkeypatch.setattr(cold_start, "is_cold_start", True)
    monkeypatch.setattr(powertools_logger, "is_cold_start", True)
    log = logger()
    log.clear_state()
    previous_level = log.log_level
    log.setLevel("INFO")
    stream = io.StringIO()
    log_handler = log.registered_handler
    assert isinstance(log_handler, logging.StreamHandler)
    # Assigned, not setStream(): that flushes the old stream, which may be a closed capture.
    old_stream = log_handler.stream
    log_handler.stream = stream
    capsys.readouterr()
    try:
        yield Lambda(db_env, capsys, stream)
    finally:
        usable = not getattr(old_stream, "closed", False)
        log_handler.stream = old_stream if usable else sys.__stderr__
        log.setLevel(previous_level)
        log.clear_state()
        m.clear_metrics()
