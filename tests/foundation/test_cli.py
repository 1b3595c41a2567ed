"""Command-line behaviour: --help everywhere, one clear line and a non-zero exit for mistakes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opsmetrics.cli import EXIT_BAD_REQUEST, main

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["db", "status"],
    ["seed"],
    ["run"],
    ["report"],
    ["serve"],
    ["demo"],
    ["invoke"],
    ["token"],
    ["orgs"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "top")
def test_help_everywhere(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--help"])
    assert exit_info.value.code == 0
    assert "usage: opsmetrics" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "hourly-nonsense"], "invalid choice"),
        (["run", "daily-territory-metrics", "--date", "2026-02-30"], "YYYY-MM-DD"),
        (["report", "territories", "--format", "xml"], "invalid choice"),
        (["report", "territories", "--limit", "0"], "at least 1"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == EXIT_BAD_REQUEST
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_reversed_range_is_refused_before_touching_the_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unreachable database proves nothing was even attempted.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code = main(["run", "daily-territory-metrics", "--from", "2026-02-10", "--to", "2026-02-01"])
    assert code == EXIT_BAD_REQUEST
    err = capsys.readouterr().err
    assert "backwards" in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line_not_a_traceback() -> None:
    # A real process, as a user runs it: the console script's exit code and stderr.
    proc = subprocess.run(
        [sys.executable, "-m", "opsmetrics.cli", "db", "status"],
        env={
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "DB_CONNECT_TIMEOUT": "2",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("opsmetrics db: ")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["report", "territories", "--from", "2026-03-01", "--to", "2026-03-02"], "--from"),
        (["report", "trends", "--region", "London"], "--region"),
        (["report", "hiring-triggers", "--cursor", "abc"], "--cursor"),
        (["report", "territories", "--include-low-volume"], "--include-low-volume"),
    ],
)
def test_report_options_that_do_not_apply_are_refused(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never reached
    assert main(argv) == EXIT_BAD_REQUEST
    err = capsys.readouterr().err
    assert f"{flag} does not apply" in err and len(err.strip().splitlines()) == 1


def test_a_database_without_the_schema_gets_a_hint(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsmetrics import db as dbmod

    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    dbmod.dispose_engines()
    assert main(["run", "daily-territory-metrics", "--date", "2026-03-01"]) == 1
    err = capsys.readouterr().err
    assert "run `opsmetrics db upgrade`" in err and len(err.strip().splitlines()) == 1
    dbmod.dispose_engines()
