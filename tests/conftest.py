"""Shared fixtures: a fresh PostgreSQL database per test run, never a mock; and each test's kinds.

With DATABASE_URL set, the run creates its own database on that server; without it, on the
embedded PostgreSQL 16 (pgserver) kept under .opsmetrics/test-pgdata. Each test that asks for
`db` starts from empty tables. Nothing here is autouse: a test that asks for none of the
database fixtures never creates, reaches or even looks for a server (`-m pure` runs without one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from opsmetrics import db as dbmod
from opsmetrics import migrations
from opsmetrics.config import Settings

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
ALL_TABLES = (
    "job_runs, hiring_alerts, http_run_reservations, territory_metrics, communication_trends,"
    " bookings, territories, medics, topic_classifications, escalation_alerts, organizations"
)


def _server_database(base_url: str, name: str) -> tuple[str, Engine]:
    url, extra = dbmod.normalize_url(base_url)
    admin = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={k: v for k, v in extra.items() if k == "unix_sock"},
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), admin


@contextmanager
def _new_database(prefix: str) -> Iterator[str]:
    """A brand-new empty database on the server of DATABASE_URL, or on the embedded one."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    base = os.environ.get("DATABASE_URL")
    if base:
        url, admin = _server_database(base, name)
        try:
            yield url
        finally:
            dbmod.dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        from opsmetrics import embedded

        pgdata = ROOT / ".opsmetrics" / "test-pgdata"
        url = embedded.url(pgdata, name)
        try:
            yield url
        finally:
            dbmod.dispose_engines()
            embedded.drop_database(pgdata, name)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with _new_database("opsmetrics_test") as url:
        yield url


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A second, empty database (no schema) for tests of migrations themselves."""
    with _new_database("opsmetrics_empty") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Short waits so lock tests finish quickly; everything else as in production.
    return Settings(database_url=database_url, lock_wait_s=5, statement_timeout_ms=120_000)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = dbmod.build_engine(settings.database_url or "", settings)
    migrations.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The test database with every table emptied first."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {ALL_TABLES} CASCADE"))
    return engine


@pytest.fixture
def db_env(monkeypatch: pytest.MonkeyPatch, database_url: str, db: Engine) -> Iterator[Engine]:
    """For code that reads its configuration from the environment (CLI, handlers)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OPSMETRICS_LOCK_WAIT_SECONDS", "5")
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    dbmod.dispose_engines()
    yield db
    dbmod.dispose_engines()


# ---- kinds (markers registered in pyproject.toml; docs/testing.md says what each runs) --------

# A test is `db` when any of these is among its fixtures, directly or through another fixture.
DATABASE_FIXTURES = frozenset(
    {"database_url", "empty_database_url", "settings", "engine", "db", "db_env"}
)
# `opsmetrics serve` in a process of its own (`door` starts one for its "server" half).
SERVER_FIXTURES = frozenset({"http_server", "server"})
HTTP_FIXTURES = SERVER_FIXTURES | {"door"}
# Areas found by folder: a test under tests/<folder>/ gets the marker of that name.
FOLDER_KINDS = frozenset({"http", "handlers", "infra", "faults", "browser"})


def kinds(item: pytest.Item) -> set[str]:
    """The kind markers of one collected test.

    db: it uses the test database (a database fixture). e2e: it runs the product in a process
    of its own on real services (a server, the demo, the SAM CLI; every `slow` test is one).
    pure: neither, so it runs with no database at all. The areas (http, handlers, infra,
    faults, browser) say what a test is about and combine with those: `-m "http and pure"`.
    """
    fixtures = set(getattr(item, "fixturenames", ()))
    found = set()
    if item.path.is_relative_to(TESTS):
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in FOLDER_KINDS:
            found.add(folder)
    # Written by hand on the rare test whose code finds a database by itself (see docs/testing.md).
    if fixtures & DATABASE_FIXTURES or item.get_closest_marker("db"):
        found.add("db")
    if fixtures & HTTP_FIXTURES:
        found.add("http")
    callspec = getattr(item, "callspec", None)
    door = callspec.params.get("door") if callspec is not None else None
    if fixtures & SERVER_FIXTURES or door == "server" or item.get_closest_marker("slow"):
        found.add("e2e")
    if not found & {"db", "e2e"}:
        found.add("pure")
    return found


# tryfirst: the markers must be on the items before `-m` deselects by them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for kind in sorted(kinds(item)):
            item.add_marker(kind)
