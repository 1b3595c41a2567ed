"""What an operator meets on the command line: each failure is one line with its fix and the
documented exit code (2 bad input, 1 failed or unusable environment), never a traceback.

Each test runs the real command: `opsmetrics` in a subprocess, or the CLI's entry point."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import main
from tests.factories import org

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "infra" / "events"


def one_line(err: str) -> str:
    """stderr that must be exactly one line, without a traceback; that line."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def opsmetrics(
    *argv: str, env: dict[str, str] | None = None, without: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`opsmetrics ARGV...` in a fresh process; `without` hides an installed module from it, as
    if its extra were not installed."""
    hide = f"import sys; sys.modules[{without!r}] = None; " if without else ""
    code = f"{hide}import sys; from opsmetrics.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- missing extras ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "module", "extra"),
    [
        (["serve", "--port", "8089"], "functions_framework", "http"),
        (["token"], "jwt", "http"),
    ],
)
def test_a_missing_extra_is_named_with_its_install_command(
    argv: list[str], module: str, extra: str
) -> None:
    done = opsmetrics(*argv, without=module)
    line = one_line(done.stderr)
    assert done.returncode == 1
    assert line.startswith(f"opsmetrics {argv[0]}: ")
    assert f"pip install 'opsmetrics[{extra}]'" in line and "unexpected" not in line
    assert done.stdout == ""


def test_the_demo_without_the_local_extra_names_it_even_with_a_database_url(
    database_url: str,
) -> None:
    done = opsmetrics("demo", env={"DATABASE_URL": database_url}, without="pgserver")
    line = one_line(done.stderr)
    assert done.returncode == 1
    assert "pip install 'opsmetrics[local]'" in line
    assert "no DATABASE_URL" not in line  # it was set: that was never the problem
    assert done.stdout == ""  # nothing announced before the refusal


# --- serve: validate and bind first, then announce ----------------------------------------------


def test_serve_refuses_a_port_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "99999"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert "a port is 1-65535, got 99999" in one_line(err) and out == ""


def test_serve_refuses_a_port_in_use_before_announcing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", "x" * 40)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    out, err = capsys.readouterr()
    assert code == 2
    assert one_line(err) == (
        f"opsmetrics serve: port {port} on 127.0.0.1 is already in use (another opsmetrics"
        " serve?): stop it or choose another with --port"
    )
    assert "serving" not in out + err


# --- invoke: events it cannot use ---------------------------------------------------------------


def test_invoke_reports_with_a_scheduled_event_names_the_events_it_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = EVENTS / "daily_territory_metrics" / "scheduler.json"
    code = main(["invoke", "reports", "--event", str(event)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    line = one_line(err)
    assert "is not an API Gateway HTTP event" in line
    assert "infra/events/reports/" in line and "KeyError" not in line


def test_invoke_with_a_binary_event_file_is_a_bad_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(bytes(range(128, 256)) * 4)
    code = main(["invoke", "daily_territory_metrics", "--event", str(event)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""  # as for any other unreadable file
    assert one_line(err) == (
        f"opsmetrics invoke: {event} is not a text file (an event is UTF-8 JSON)"
    )


# --- databases it cannot use --------------------------------------------------------------------


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    from opsmetrics import db as dbmod

    dbmod.dispose_engines()
    yield
    dbmod.dispose_engines()


def test_a_closed_port_says_where_it_tried_and_what_to_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fresh_engines: None
) -> None:
    port = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/opsmetrics")
    assert main(["status"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line == (
        f"opsmetrics status: cannot connect to PostgreSQL at 127.0.0.1:{port}"
        " (ConnectionRefusedError: Connection refused): is the server running there?"
        " Check the host and port in DATABASE_URL"
    )
    assert "pg8000" not in line and "unexpected" not in line


def test_an_unknown_role_is_a_refused_login_with_the_fix(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fresh_engines: None,
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.host is None:
        pytest.skip("needs a server URL")
    bad = url.set(username="no_such_role_here").render_as_string(False)
    monkeypatch.setenv("DATABASE_URL", bad)
    assert main(["report", "territories"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("opsmetrics report: PostgreSQL refused the login (database error 28")
    assert '"no_such_role_here"' in line
    assert line.endswith("check the user name and password in DATABASE_URL")


def test_a_missing_database_names_the_fix_not_db_upgrade(
    database_url: str, fresh_engines: None
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(database="no_such_database_here")
    done = opsmetrics("status", env={"DATABASE_URL": url.render_as_string(False)})
    line = one_line(done.stderr)
    assert done.returncode == 1
    assert "CREATE DATABASE" in line and "db upgrade" not in line


# --- token ---------------------------------------------------------------------------------------


def test_token_refuses_an_organization_the_database_does_not_have(
    db_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", "x" * 40)
    unknown = "6624fa7b-0e4e-4c95-8ebf-000000000000"
    assert main(["token", "--org", unknown]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert one_line(err) == (
        f"opsmetrics token: unknown organization {unknown}: its token would see no data;"
        " list the organizations with `opsmetrics orgs`"
    )
    with db_env.begin() as conn:
        known = org(conn, "Known Medics")
    assert main(["token", "--org", str(known)]) == 0
    assert capsys.readouterr().out.count(".") == 2  # a JWT


def test_token_warns_when_it_cannot_check_the_organization(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fresh_engines: None
) -> None:
    monkeypatch.setenv("OPSMETRICS_JWT_SECRET", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert main(["token", "--org", "6624fa7b-0e4e-4c95-8ebf-ba5b54f9e481"]) == 0
    out, err = capsys.readouterr()
    assert out.count(".") == 2
    line = one_line(err)
    assert line.startswith("warning: could not check that organization")
    assert line.endswith("minting the token anyway")


# --- orgs, job names, help ----------------------------------------------------------------------


def test_orgs_lists_ids_and_names(db_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with db_env.begin() as conn:
        acme, beta = org(conn, "Acme Medics"), org(conn, "Beta Cover")
    assert main(["orgs"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "organizations: 2"
    assert [line.split()[0] for line in table[3:]] == [str(acme), str(beta)]  # by name
    assert "Acme Medics" in table[3]
    assert main(["orgs", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == f"{acme},Acme Medics,0,False"


def test_an_unknown_organization_points_at_orgs(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = "6624fa7b-0e4e-4c95-8ebf-000000000000"
    for argv in (["status"], ["runs"], ["run", "daily-trend-aggregation"]):
        assert main([*argv, "--org", unknown]) == 2
        line = one_line(capsys.readouterr().err)
        assert line.endswith(
            f"unknown organization {unknown}: `opsmetrics orgs` lists the organizations"
        )


def test_run_takes_job_names_with_underscores_as_invoke_does(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "daily_trend_aggregation", "--date", "2026-03-01"]) == 0
    assert capsys.readouterr().out.startswith("daily-trend-aggregation 2026-03-01 succeeded")


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["serve"], "opsmetrics token --org ORG_ID"),
        (["invoke"], "infra/events/FUNCTION/*.json"),
        (["report"], "'South East'"),
    ],
)
def test_help_says_what_a_first_time_user_needs(
    words: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*words, "--help"])
    assert says in " ".join(capsys.readouterr().out.split())


def test_verbose_works_after_the_subcommand_too(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["-v", "run"], ["run"]):
        extra = [] if argv[0] == "-v" else ["-v"]
        code = main([*argv, "daily-trend-aggregation", "--date", "2026-03-01", *extra])
        assert code == 0
        logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert {"level": "INFO", "message": "job finished"}.items() <= logged[-1].items()


def test_durations_have_a_sensible_precision() -> None:
    from opsmetrics.run_report import duration

    assert [duration(s) for s in (0.0004, 0.048, 1.254, 12.44, 185)] == [
        "0 ms",
        "48 ms",
        "1.25 s",
        "12.4 s",
        "3 min 05 s",
    ]
    assert not re.search(r"\b0\.0\s?s\b", duration(0.01))
