"""Migrations on fresh databases: the full path and the outputs-only path for product databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from opsmetrics import db as dbmod
from opsmetrics import migrations
from opsmetrics.cli import main
from opsmetrics.config import Settings

# What a product database already has: its own shapes (an extra column), its own indexes.
PRODUCT_SCHEMA = """
CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), plan text);
CREATE TABLE medics (id uuid PRIMARY KEY, org_id uuid NOT NULL REFERENCES organizations,
    full_name text NOT NULL, active boolean NOT NULL DEFAULT true);
CREATE TABLE territories (id uuid PRIMARY KEY, org_id uuid NOT NULL REFERENCES organizations,
    postcode_sector text NOT NULL, region text NOT NULL, primary_medic_id uuid REFERENCES medics,
    secondary_medic_id uuid REFERENCES medics, UNIQUE (org_id, postcode_sector));
CREATE TABLE bookings (id uuid PRIMARY KEY, org_id uuid NOT NULL REFERENCES organizations,
    site_postcode text NOT NULL, shift_date date NOT NULL, status text NOT NULL, medic_id uuid,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE topic_classifications (id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations, channel_id text, topic text NOT NULL,
    sentiment jsonb, confidence double precision, created_at timestamptz NOT NULL);
CREATE TABLE escalation_alerts (id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations, severity text NOT NULL,
    created_at timestamptz NOT NULL);
"""
OUTPUTS = {
    "territory_metrics",
    "communication_trends",
    "job_runs",
    "hiring_alerts",
    "http_run_reservations",
}
SOURCES = {
    "organizations",
    "medics",
    "territories",
    "bookings",
    "topic_classifications",
    "escalation_alerts",
}


@pytest.fixture
def empty(empty_database_url: str) -> Iterator[Engine]:
    engine = dbmod.build_engine(empty_database_url, Settings(database_url=empty_database_url))
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )


def _indexes(engine: Engine) -> set[tuple[str, str]]:
    """(table, index) pairs."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()")
        )
        return {(r[0], r[1]) for r in rows}


def test_full_upgrade_on_an_empty_database(empty: Engine) -> None:
    assert migrations.current(empty) == []
    assert migrations.upgrade(empty) == ["o0003", "s0001"]
    assert _tables(empty) == SOURCES | OUTPUTS | {migrations.VERSION_TABLE}
    assert {
        ("bookings", "bookings_org_shift_date_idx"),
        ("topic_classifications", "topic_classifications_created_at_idx"),
        ("escalation_alerts", "escalation_alerts_created_at_idx"),
    } <= _indexes(empty)


def test_outputs_only_leaves_a_product_database_alone(empty: Engine) -> None:
    with empty.begin() as conn:
        conn.execute(text(PRODUCT_SCHEMA))
    indexes_before = _indexes(empty)
    assert migrations.upgrade(empty, outputs_only=True) == ["o0003"]
    assert migrations.upgrade(empty, outputs_only=True) == ["o0003"]  # repeatable
    assert _tables(empty) == SOURCES | OUTPUTS | {migrations.VERSION_TABLE}
    new_indexes = _indexes(empty) - indexes_before
    # Only indexes of our own tables were added; the product's tables got nothing.
    assert {table for table, _ in new_indexes} == OUTPUTS | {migrations.VERSION_TABLE}
    with empty.connect() as conn:
        plan = conn.execute(
            text("SELECT count(*) FROM information_schema.columns WHERE column_name = 'plan'")
        ).scalar()
    assert plan == 1


def test_cli_upgrade_tells_a_product_database_to_use_outputs_only(
    empty: Engine,
    empty_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with empty.begin() as conn:
        conn.execute(text(PRODUCT_SCHEMA))
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    dbmod.dispose_engines()
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "--outputs-only" in err and len(err.strip().splitlines()) == 1
    assert migrations.current(empty) == []  # the failed upgrade changed nothing
    assert main(["db", "upgrade", "--outputs-only"]) == 0
    assert "o0003" in capsys.readouterr().out
    dbmod.dispose_engines()


def test_outputs_only_without_source_tables_says_what_is_missing(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    dbmod.dispose_engines()
    assert main(["db", "upgrade", "--outputs-only"]) == 1
    assert "source tables" in capsys.readouterr().err
    dbmod.dispose_engines()


def test_cli_upgrade_twice_and_status(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    dbmod.dispose_engines()
    assert main(["db", "status"]) == 0
    assert "nothing" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "status"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "applied: o0003, s0001"
    dbmod.dispose_engines()


def test_the_calendar_migration_upgrades_an_existing_ledger_in_place(empty: Engine) -> None:
    """o0001 -> o0002 on a database with history: a run limited to one organization keeps it,
    now as a real column; runs for everybody have none; nothing is lost."""
    import uuid

    from alembic import command

    with empty.begin() as conn:
        cfg = migrations._config(conn)
        command.upgrade(cfg, "source@head")  # type: ignore[arg-type]
        command.upgrade(cfg, "o0001")  # type: ignore[arg-type]
    org = uuid.uuid4()
    with empty.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (job, target_date, trigger, status, started_at, stats)"
                " VALUES ('daily-trend-aggregation', DATE '2026-11-01', 'manual', 'succeeded',"
                " now(), CAST(:limited AS jsonb)), ('daily-trend-aggregation', DATE '2026-11-02',"
                " 'schedule', 'failed', now(), '{}')"
            ),
            {"limited": f'{{"org_id": "{org}", "rows_written": 3}}'},
        )
    assert migrations.upgrade(empty) == ["o0003", "s0001"]
    with empty.connect() as conn:
        rows = conn.execute(
            text("SELECT target_date, org_id, stats, request_id FROM job_runs ORDER BY 1")
        ).all()
    assert [(r.org_id, r.request_id) for r in rows] == [(org, None), (None, None)]
    assert rows[0].stats["rows_written"] == 3
    assert "hiring_alerts" in _tables(empty)
