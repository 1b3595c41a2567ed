"""Finding and running the SAM CLI, which lives in its own virtual environment (.venv-sam: its
pins clash with the project's). `python3 dev.py test` creates it and sets OPSMETRICS_SAM."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def sam_path() -> Path | None:
    """OPSMETRICS_SAM (must exist when set), else .venv-sam/bin/sam, else `sam` on PATH."""
    configured = os.environ.get("OPSMETRICS_SAM")
    if configured:
        path = Path(configured)
        if not path.is_file():
            pytest.fail(f"OPSMETRICS_SAM names no file: {configured}")
        return path
    local = ROOT / ".venv-sam" / "bin" / "sam"
    if local.is_file():
        return local
    found = shutil.which("sam")
    return Path(found) if found else None


def require_sam() -> Path:
    path = sam_path()
    if path is None:
        pytest.skip("SAM CLI not installed: run `python3 dev.py test` (it creates .venv-sam)")
    return path


def sam_python() -> Path:
    """The interpreter of the SAM CLI's environment (it holds samtranslator)."""
    python = require_sam().parent / "python"
    if not python.is_file():
        pytest.skip(f"no python beside {require_sam()}: cannot run samtranslator")
    return python


def sam_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-2", **extra}
    # Never let a developer's AWS profile or credentials near these commands.
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    return env


def run_sam(
    *args: str, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """Run `sam ARGS` from the repository root; a failing test if it fails."""
    done = subprocess.run(
        [str(require_sam()), *args],
        cwd=ROOT,
        env=env or sam_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        pytest.fail(f"sam {' '.join(args)} exited {done.returncode}:\n{output[-4000:]}")
    return done
