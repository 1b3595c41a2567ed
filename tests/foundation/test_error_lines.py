"""Failures as one readable line (errors.one_line): the server's message and SQLSTATE, never the
driver's raw dictionary. Pure cases, then real ones from PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pg8000.dbapi  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from opsmetrics import runs
from opsmetrics.cli import main
from opsmetrics.config import Settings
from opsmetrics.errors import one_line
from tests.factories import job_runs
from tests.foundation.test_runs import jobs  # noqa: F401 (the stand-in jobs fixture)

SERVER_FIELDS = {
    "S": "ERROR",
    "V": "ERROR",
    "C": "57014",
    "M": "canceling statement due to statement timeout",
    "F": "postgres.c",
    "L": "3335",
}


def test_a_database_error_is_its_sqlstate_and_message() -> None:
    driver = pg8000.dbapi.ProgrammingError(SERVER_FIELDS)
    wrapped = OperationalError("SELECT pg_sleep(5)", {}, driver)
    expected = "database error 57014 query_canceled: canceling statement due to statement timeout"
    assert one_line(wrapped) == one_line(driver) == expected
    assert "{" not in one_line(wrapped)


def test_a_cut_connection_says_so() -> None:
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as reset:
            raise pg8000.dbapi.InterfaceError("network error") from reset
    except pg8000.dbapi.InterfaceError as driver:
        wrapped = InterfaceError("SELECT 1", {}, driver)
    assert one_line(wrapped) == (
        "database connection lost: ConnectionResetError: [Errno 104] Connection reset by peer"
    )


def test_anything_else_is_its_type_and_first_line() -> None:
    assert one_line(RuntimeError("boom\nmore")) == "RuntimeError: boom"
    assert len(one_line(ValueError("x" * 5000))) == 500


def test_a_statement_timeout_is_recorded_readably(
    jobs: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    summary = runs.run(
        "test-slow",
        [runs.today_utc()],
        trigger="manual",
        engine=jobs,
        settings=replace(settings, statement_timeout_ms=100),
    )
    [row] = job_runs(jobs)
    expected = "database error 57014 query_canceled: canceling statement due to statement timeout"
    assert summary.runs[0].error == row["error"] == expected


def test_the_command_line_names_a_missing_role_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.host is None and "unix_sock" not in str(url):
        pytest.skip("needs a server URL")
    monkeypatch.setenv(
        "DATABASE_URL", url.set(username="no_such_role_here").render_as_string(False)
    )
    from opsmetrics import db as dbmod

    dbmod.dispose_engines()
    assert main(["status"]) == 1
    err = capsys.readouterr().err.strip()
    dbmod.dispose_engines()
    assert err.count("\n") == 0 and "{" not in err, err
    assert "28000" in err and "no_such_role_here" in err


def test_a_missing_database_is_not_sent_to_db_upgrade(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.engine import make_url

    from opsmetrics import db as dbmod

    url = make_url(database_url).set(database="no_such_database_here")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(False))
    dbmod.dispose_engines()
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err.strip()
    dbmod.dispose_engines()
    assert err == (
        'opsmetrics db: database "no_such_database_here" does not exist: create it'
        " (CREATE DATABASE) or point DATABASE_URL at the right one"
    )
