"""The settings are declared once (opsmetrics.config) and everything else follows them: the
README's table, the docs' mentions, the one module that reads the environment, and a one-line
error naming the variable for a bad value. Pure: no database."""

from __future__ import annotations

import ast
import re
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

import pytest

import opsmetrics
from opsmetrics.cli import main
from opsmetrics.config import Settings, documented_vars, settings_table
from opsmetrics.config_fields import EnvVar, declarations
from opsmetrics.errors import ConfigError

PACKAGE = Path(opsmetrics.__file__).parent
ROOT = PACKAGE.parents[1]
REGENERATE = ".venv/bin/python -m opsmetrics.config prints the table to paste"
# Variables the docs may name that are no setting of opsmetrics: Powertools' own, and those of
# the test suite and dev.py.
NOT_SETTINGS = {
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_DEV",
    "OPSMETRICS_SCREENSHOTS",
    "OPSMETRICS_DOCS_SCREENSHOTS",
    "OPSMETRICS_SAM",
    "OPSMETRICS_VENV",
}
# Modules that touch os.environ themselves: config.py reads it; demo.py and local_invoke.py
# write it, for the server's workers and the handler they start.
ENVIRONMENT_MODULES = {"config.py", "demo.py", "local_invoke.py"}
NAME = re.compile(r"\b(?:OPSMETRICS|DB|POWERTOOLS|AWS_LAMBDA)_[A-Z0-9_]+\b|\bDATABASE_URL\b")


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Configuration\n") :]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variable |"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return "\n".join(table) + "\n"


def _names(table: str) -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def test_the_readme_lists_exactly_the_declared_settings() -> None:
    readme = _readme_table()
    declared = {v.name for v in documented_vars()}
    assert _names(readme) - declared == set(), f"README lists unknown settings; {REGENERATE}"
    assert declared - _names(readme) == set(), f"README misses settings; {REGENERATE}"
    differ = sorted(set(readme.splitlines()) ^ set(settings_table().splitlines()))
    assert not differ, f"README's descriptions or defaults differ: {differ}; {REGENERATE}"
    assert readme == settings_table(), f"README's order differs; {REGENERATE}"


def test_the_docs_name_only_declared_settings() -> None:
    declared = {v.name for v in documented_vars()}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        named = set(NAME.findall(page.read_text(encoding="utf-8"))) - NOT_SETTINGS
        assert named <= declared, f"{page.relative_to(ROOT)} names {sorted(named - declared)}"


def test_every_setting_is_declared_with_a_variable() -> None:
    """A field of Settings without a declaration would be a setting the docs cannot list."""
    sections = {"auth", "http", "powertools"}
    declared = {f.name for f, _ in declarations(Settings)}
    plain = {f.name for f in fields(Settings)} - sections - declared
    assert plain == {"min_time_left_s"}  # a constant of the run loop, not from the environment
    names = [v.name for v in documented_vars()]
    assert len(names) == len(set(names)), "a variable declared twice"


def _reads_the_environment(source: str) -> bool:
    """Whether code touches the process environment: os.environ or os.getenv in any spelling
    (`import os`, `from os import environ, getenv`, an alias), read from the syntax tree."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"}:
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & {"environ", "getenv", "putenv", "*"}
        ):
            return True
    return False


def test_only_the_config_module_reads_the_environment() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "functions").glob("*/app.py")]
    touching = {
        path.relative_to(ROOT).as_posix()
        for path in sources
        if _reads_the_environment(path.read_text(encoding="utf-8"))
    }
    expected = {f"shared/opsmetrics/{name}" for name in ENVIRONMENT_MODULES}
    assert touching == expected, (
        "read settings through config.Settings, handed down from the front door (docs/house.md,"
        " Add a setting); only config.py reads the environment"
    )


def test_the_environment_check_sees_every_spelling() -> None:
    for code in (
        "import os\nos.environ.get('X')",
        "from os import environ\nenviron['X']",
        "from os import getenv\ngetenv('X')",
        "import os as system\nsystem.getenv('X')",
    ):
        assert _reads_the_environment(code), code
    assert not _reads_the_environment("settings.environment_name")


@pytest.mark.parametrize(
    ("field", "var"), [pytest.param(f, v, id=v.name) for f, v in declarations(Settings)]
)
def test_a_bad_value_is_one_line_naming_its_variable(field: Field[Any], var: EnvVar) -> None:
    if "int" not in str(field.type):
        Settings.from_env({var.name: "abc"})  # any text is a value
        return
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({var.name: "abc"})
    assert str(refused.value) == f"{var.name} must be a whole number, got 'abc'"


def test_the_command_line_refuses_a_bad_value_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THREADS", "abc")
    assert main(["token", "--org", "not-even-checked"]) == 1
    assert (
        capsys.readouterr().err == "opsmetrics token: THREADS must be a whole number, got 'abc'\n"
    )


def test_defaults_are_the_declared_ones() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.http.threads, settings.http.report_cache_mb) == (8, 64)
    assert settings.powertools.service_name == "opsmetrics"
    assert settings.auth.jwt_secret is None and not settings.in_lambda
