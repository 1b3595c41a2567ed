"""`sam validate --lint` and `sam build` on this machine: no Docker, no Python 3.13 needed; the
built layer holds the third-party packages Lambda needs for python3.13 on arm64, and nothing the
runtime has; each function holds its handler and the opsmetrics package without what only the
command line uses, and its handler loads from there with the layer on the path."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.handlers.conftest import JOB_FUNCTIONS, load_event
from tests.handlers.test_handler_imports import check_scheduled_imports, probe
from tests.infra.samcli import ROOT, run_sam, sam_env

pytestmark = pytest.mark.slow

# logical id -> code folder
FUNCTIONS = {
    "".join(part.title() for part in folder.split("_")) + "Function": folder
    for folder in (*JOB_FUNCTIONS, "reports")
}
# What the python3.13 Lambda runtime ships (boto3 and its dependencies).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3"}
# What only the command line uses: never in a function (paths under opsmetrics/).
CLI_ONLY = ("seed", "migrations", "demo.py", "embedded.py", "local_invoke.py", "reports/server.py")
CLI_ONLY_FILES = ("cli*.py", "*_cli.py", "local_*.py")
# The one import of a command-line module in what ships: db.resolve_url's embedded server, taken
# only with allow_embedded=True, which the command line alone passes.
COMMAND_LINE_BRANCHES = {("opsmetrics/db.py", "opsmetrics.embedded")}
NEEDED = {
    "sqlalchemy",
    "pg8000",
    "scramp",
    "asn1crypto",
    "dateutil",
    "six.py",
    "typing_extensions.py",
    "aws_lambda_powertools",
}
NOT_SHIPPED = RUNTIME_PROVIDED | {
    "opsmetrics",  # ships with each function
    "alembic",
    "functions_framework",
    "flask",
    "pgserver",
    "jwt",
}
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


def test_functions_hold_their_handler_and_the_package(build_dir: Path) -> None:
    shipped = set()
    for function, folder in FUNCTIONS.items():
        artifact = build_dir / function
        assert sorted(p.name for p in artifact.iterdir()) == ["app.py", "opsmetrics"], function
        assert (artifact / "app.py").read_bytes() == (
            ROOT / "functions" / folder / "app.py"
        ).read_bytes()
        package = artifact / "opsmetrics"
        for path in CLI_ONLY:
            assert not (package / path).exists(), (function, path)
        for pattern in CLI_ONLY_FILES:
            assert not list(package.rglob(pattern)), (function, pattern)
        assert not list(package.rglob("__pycache__")), function
        # the reports function serves the dashboard's files at GET / and /assets/{file}
        assert (package / "dashboard" / "static" / "index.html").is_file(), function
        shipped.add(frozenset(str(p.relative_to(artifact)) for p in package.rglob("*")))
    assert len(shipped) == 1  # the same package in every function
    assert (build_dir / "template.yaml").is_file()


def _source_modules(root: Path) -> dict[str, Path]:
    """Module name -> file of every opsmetrics module under `root`."""
    found = {}
    for path in (root / "opsmetrics").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(path: Path) -> set[str]:
    """Every opsmetrics name the file imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {n for n in names if n.split(".")[0] == "opsmetrics"}


def test_what_ships_imports_only_what_ships(build_dir: Path) -> None:
    """No shipped module imports a module left out, even lazily (a first call would fail)."""
    source = set(_source_modules(ROOT / "shared"))
    artifact = build_dir / "ReportsFunction"
    shipped = _source_modules(artifact)
    assert source > set(shipped)
    missing = {
        (str(path.relative_to(artifact)), name)
        for path in shipped.values()
        for name in _imported(path)
        if name in source and name not in shipped
    }
    assert missing == COMMAND_LINE_BRANCHES


def _lambda_path(build_dir: Path, function: str, tmp: Path) -> list[Path]:
    """Lambda's module path: the function, the layer, the runtime's own boto3 (a stand-in folder
    of links to this environment's copies), then the standard library."""
    runtime = tmp / "runtime"
    if not runtime.exists():
        runtime.mkdir()
        for name in sorted(RUNTIME_PROVIDED):
            module = __import__(name)
            (runtime / name).symlink_to(Path(module.__file__ or "").parent)
    return [build_dir / function, build_dir / "DependenciesLayer" / "python", runtime]


@pytest.mark.parametrize("function", sorted(JOB_FUNCTIONS))
def test_built_job_handlers_load_from_the_artifact_and_the_layer(
    build_dir: Path, tmp_path: Path, function: str
) -> None:
    logical_id = next(k for k, v in FUNCTIONS.items() if v == function)
    only = _lambda_path(build_dir, logical_id, tmp_path)
    modules = probe(only[0] / "app.py", JOB_FUNCTIONS[function], only)
    check_scheduled_imports(modules)
    assert modules["files"]["opsmetrics"] == str(only[0] / "opsmetrics" / "__init__.py")
    assert modules["files"]["sqlalchemy"].startswith(str(only[1]))


SERVE_DASHBOARD = """
import importlib.util, json, sys, types
sys.path[:0] = json.loads(sys.argv[2])
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
context = types.SimpleNamespace(
    function_name="reports", function_version="$LATEST", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:eu-west-2:123456789012:function:reports",
    aws_request_id="probe", log_group_name="probe", log_stream_name="probe",
    get_remaining_time_in_millis=lambda: 29000,
)
answer = app.lambda_handler(json.loads(sys.stdin.read()), context)
print(json.dumps({"answer": answer, "opsmetrics": sys.modules["opsmetrics"].__file__}))
"""


def test_built_reports_handler_serves_the_dashboard(build_dir: Path, tmp_path: Path) -> None:
    only = _lambda_path(build_dir, "ReportsFunction", tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            SERVE_DASHBOARD,
            str(only[0] / "app.py"),
            json.dumps([str(p) for p in only]),
        ],
        input=json.dumps(load_event("reports", "dashboard")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["opsmetrics"] == str(only[0] / "opsmetrics" / "__init__.py")
    assert out["answer"]["statusCode"] == 200
    index = ROOT / "shared" / "opsmetrics" / "dashboard" / "static" / "index.html"
    assert out["answer"]["body"] == index.read_text(encoding="utf-8")


def test_layer_contents(build_dir: Path) -> None:
    site = build_dir / "DependenciesLayer" / "python"
    top = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert top >= NEEDED
    assert not top & NOT_SHIPPED
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
