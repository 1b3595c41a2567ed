"""The schema against a real PostgreSQL: every contract table and column, upgrade twice."""

from __future__ import annotations

from sqlalchemy import Engine, text

from opsmetrics import migrations

CONTRACT_COLUMNS = {
    "organizations": {"id", "name", "created_at"},
    "medics": {"id", "org_id", "full_name", "active"},
    "territories": {
        "id",
        "org_id",
        "postcode_sector",
        "region",
        "primary_medic_id",
        "secondary_medic_id",
    },
    "bookings": {"id", "org_id", "site_postcode", "shift_date", "status", "medic_id", "created_at"},
    "territory_metrics": {
        "territory_id",
        "org_id",
        "postcode_sector",
        "metric_date",
        "total_bookings",
        "confirmed_bookings",
        "rejected_bookings",
        "rejection_rate",
        "fulfillment_rate",
        "primary_medic_utilization",
        "hiring_trigger_weeks",
        "coverage_gap_weeks",
        "computed_at",
    },
    "topic_classifications": {
        "id",
        "organization_id",
        "channel_id",
        "topic",
        "sentiment",
        "confidence",
        "created_at",
    },
    "escalation_alerts": {"id", "organization_id", "severity", "created_at"},
    "communication_trends": {
        "organization_id",
        "trend_date",
        "trend_period",
        "topic_distribution",
        "sentiment_distribution",
        "escalation_counts",
        "channel_hotspots",
        "total_classifications",
        "avg_confidence",
        "created_at",
        "updated_at",
    },
    "job_runs": {
        "id",
        "job",
        "target_date",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "stats",
        "error",
    },
}
# What the project adds to the contract's tables (the contract allows additions, never changes).
ADDED_COLUMNS = {"job_runs": {"org_id", "request_id", "request_kind"}}


def _columns(engine: Engine) -> dict[str, dict[str, tuple[str, str]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT table_name, column_name, data_type, is_nullable"
                " FROM information_schema.columns WHERE table_schema = current_schema()"
            )
        ).all()
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for table, column, dtype, nullable in rows:
        out.setdefault(table, {})[column] = (dtype, nullable)
    return out


def test_upgrade_creates_every_contract_table_and_column(engine: Engine) -> None:
    cols = _columns(engine)
    for table, expected in CONTRACT_COLUMNS.items():
        assert set(cols.get(table, {})) == expected | ADDED_COLUMNS.get(table, set()), table


def test_key_types_follow_the_contract(engine: Engine) -> None:
    cols = _columns(engine)
    assert cols["bookings"]["id"] == ("uuid", "NO")
    assert cols["bookings"]["shift_date"][0] == "date"
    assert cols["territory_metrics"]["rejection_rate"] == ("numeric", "YES")
    assert cols["territory_metrics"]["primary_medic_utilization"] == ("numeric", "NO")
    assert cols["topic_classifications"]["sentiment"][0] == "jsonb"
    assert cols["topic_classifications"]["created_at"][0] == "timestamp with time zone"
    assert cols["communication_trends"]["avg_confidence"] == ("double precision", "YES")
    assert cols["job_runs"]["stats"][0] == "jsonb"
    assert cols["job_runs"]["org_id"] == ("uuid", "YES")
    assert cols["hiring_alerts"]["published_at"] == ("timestamp with time zone", "YES")


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    before = migrations.current(engine)
    after = migrations.upgrade(engine)
    assert before == after == ["o0003", "s0001"]
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM opsmetrics_schema_version")).scalar()
    assert n == 2


def test_a_statement_may_outlast_the_connect_timeout(database_url: str) -> None:
    from opsmetrics.config import Settings
    from opsmetrics.db import build_engine

    engine = build_engine(database_url, Settings(database_url=database_url, connect_timeout_s=1))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_sleep(1.5), 1")).one()[1] == 1
    engine.dispose()
