#!/usr/bin/env python3
"""The project's two set-up commands; each bootstraps the virtual environment it needs.

    python3 dev.py demo     # install, then run `opsmetrics demo` on an embedded PostgreSQL
    python3 dev.py test     # install, then run the test suite (extra args go to pytest)
    python3 dev.py lint     # ruff and mypy (CI runs this too)

Only Python 3.11+ is needed. The environment lives in .venv and is reinstalled only when
pyproject.toml changes. Tests use DATABASE_URL when set, else an embedded PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("OPSMETRICS_VENV", ROOT / ".venv"))
# The demo serves its dashboard too (`dev.py demo --serve`): the http extra.
EXTRAS = {"demo": "local,http", "test": "local,http,dev", "lint": "local,http,dev"}
# The SAM CLI for the template tests (sam validate / build), in its own environment: its pins
# clash with the project's. Reinstalled only when this pin changes.
SAM_VENV = ROOT / ".venv-sam"
SAM_CLI = "aws-sam-cli==1.170.0"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True)


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is the one place older Pythons reach
        sys.exit(f"opsmetrics needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not _bin("python").exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".opsmetrics-{extras.replace(',', '-')}-{digest}"
    if stamp.exists():
        return
    print(f"installing opsmetrics[{extras}] into {VENV} ...", file=sys.stderr)
    pip: list[str | Path] = [_bin("python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(*pip, "install", "--upgrade", "pip")
    _run(*pip, "install", "-e", f"{ROOT}[{extras}]")
    for old in VENV.glob(f".opsmetrics-{extras.replace(',', '-')}-*"):
        old.unlink()
    stamp.touch()


def ensure_sam_venv() -> Path:
    bindir = SAM_VENV / ("Scripts" if os.name == "nt" else "bin")
    stamp = SAM_VENV / f".opsmetrics-{SAM_CLI.replace('==', '-')}"
    if stamp.exists() and (bindir / "sam").exists():
        return bindir / "sam"
    if not (bindir / "python").exists():
        print(f"creating {SAM_VENV} ...", file=sys.stderr)
        venv.create(SAM_VENV, with_pip=True)
    print(f"installing {SAM_CLI} into {SAM_VENV} ...", file=sys.stderr)
    pip: list[str | Path] = [bindir / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(*pip, "install", "--upgrade", "pip")
    _run(*pip, "install", SAM_CLI)
    for old in SAM_VENV.glob(".opsmetrics-aws-sam-cli-*"):
        old.unlink()
    stamp.touch()
    return bindir / "sam"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv(EXTRAS[command])
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if command == "demo":
        return subprocess.call([str(_bin("opsmetrics")), "demo", *rest], cwd=ROOT, env=env)
    if command == "test":
        env["OPSMETRICS_SAM"] = str(ensure_sam_venv())
        return subprocess.call([str(_bin("python")), "-m", "pytest", *rest], cwd=ROOT, env=env)
    ruff = subprocess.call([str(_bin("ruff")), "check", "."], cwd=ROOT)
    mypy = subprocess.call([str(_bin("mypy"))], cwd=ROOT)
    return ruff or mypy


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
