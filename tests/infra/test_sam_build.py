"""`sam validate --lint` and `sam build` on this machine: no Docker, no Python 3.13 needed; the
built layer holds what Lambda needs for python3.13 on arm64, and nothing the runtime has."""

from __future__ import annotations

import os
import subprocess
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.infra.samcli import run_sam, sam_env

pytestmark = pytest.mark.slow

FUNCTIONS = [
    "DailyTerritoryMetricsFunction",
    "WeeklyHiringTriggersFunction",
    "DailyTrendAggregationFunction",
    "ReportsFunction",
]
# What the python3.13 Lambda runtime ships (boto3 and its dependencies).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3"}
NEEDED = {
    "opsmetrics",
    "sqlalchemy",
    "pg8000",
    "scramp",
    "asn1crypto",
    "dateutil",
    "six.py",
    "typing_extensions.py",
    "aws_lambda_powertools",
}
NOT_SHIPPED = RUNTIME_PROVIDED | {"alembic", "functions_framework", "flask", "pgserver", "jwt"}
LAYER_LIMIT_BYTES = 50 * 1024 * 1024  # the target: under 50 MB unzipped
# Lambda's python3.13 on arm64, for evaluating requirement markers.
LAMBDA_MARKERS: dict[str, str] = {
    **{key: str(value) for key, value in default_environment().items()},
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "platform_machine": "aarch64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def _env_without_python313(tmp: Path) -> dict[str, str]:
    """PATH led by a `python3.13` that fails, as on a machine without one."""
    shim_dir = tmp / "no-python3.13"
    shim_dir.mkdir()
    shim = shim_dir / "python3.13"
    shim.write_text("#!/bin/sh\necho 'python3.13: not installed' >&2\nexit 127\n")
    shim.chmod(0o755)
    env = sam_env(PATH=f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    probe = subprocess.run(["python3.13", "-c", ""], env=env, capture_output=True, check=False)
    assert probe.returncode != 0
    return env


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sam")
    out = tmp / "build"
    run_sam("build", "--build-dir", str(out), env=_env_without_python313(tmp))
    return out


def test_validate_lint() -> None:
    done = run_sam("validate", "--lint")
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_functions_hold_only_their_handler(build_dir: Path) -> None:
    for function in FUNCTIONS:
        files = sorted(p.name for p in (build_dir / function).iterdir())
        assert files == ["app.py"], function
    assert (build_dir / "template.yaml").is_file()


def test_layer_contents(build_dir: Path) -> None:
    site = build_dir / "DependenciesLayer" / "python"
    top = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert top >= NEEDED
    assert not top & NOT_SHIPPED
    assert (site / "opsmetrics" / "lambda_jobs.py").is_file()
    # The dashboard's files travel with the package: the reports function serves them at GET /.
    assert (site / "opsmetrics" / "dashboard" / "static" / "index.html").is_file()
    assert not (site / "opsmetrics" / "migrations").exists()  # needs alembic: CLI only
    assert not list(site.rglob("*.cpython-311*"))  # nothing built for this machine's Python
    extensions = list(site.rglob("*.so"))
    assert extensions  # SQLAlchemy's compiled parts
    assert all("cpython-313-aarch64-linux-gnu" in p.name for p in extensions), extensions


def test_layer_under_50_mb(build_dir: Path) -> None:
    size = sum(
        p.stat().st_size for p in (build_dir / "DependenciesLayer").rglob("*") if p.is_file()
    )
    assert size < LAYER_LIMIT_BYTES, f"{size / 1e6:.1f} MB"


def test_every_layer_requirement_is_met(build_dir: Path) -> None:
    """Installed with --no-deps: each distribution's requirements must be in the layer or the
    runtime, at a version they accept."""
    site = build_dir / "DependenciesLayer" / "python"
    versions: dict[str, Version] = {}
    requires: dict[str, list[str]] = {}
    for info in site.glob("*.dist-info"):
        meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"))
        name = canonicalize_name(meta["Name"])
        versions[name] = Version(meta["Version"])
        requires[name] = meta.get_all("Requires-Dist") or []
    assert {"sqlalchemy", "pg8000", "aws-lambda-powertools"} <= set(versions)
    for dist, lines in requires.items():
        for line in lines:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({**LAMBDA_MARKERS, "extra": ""}):
                continue  # an extra, or another platform's need
            name = canonicalize_name(req.name)
            if name in RUNTIME_PROVIDED:
                continue
            assert name in versions, f"{dist} needs {req}, which is not in the layer"
            assert req.specifier.contains(versions[name], prereleases=True), (
                f"{dist} needs {req}, the layer has {versions[name]}"
            )
