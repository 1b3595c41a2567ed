"""Small builders for hand-computed fixtures: one multi-row INSERT per call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text


def insert_rows(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT all rows in one statement; dict/list values go in as jsonb."""
    if not rows:
        return
    columns = list(rows[0])
    params: dict[str, Any] = {}
    values = []
    for i, row in enumerate(rows):
        if list(row) != columns:
            raise ValueError(f"row {i} has columns {list(row)}, expected {columns}")
        placeholders = []
        for c in columns:
            key = f"{c}_{i}"
            value = row[c]
            if isinstance(value, dict | list):
                params[key] = json.dumps(value)
                placeholders.append(f"CAST(:{key} AS jsonb)")
            else:
                params[key] = value
                placeholders.append(f":{key}")
        values.append("(" + ", ".join(placeholders) + ")")
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(values)
    conn.execute(text(sql), params)


def org(conn: Connection, name: str = "Acme Medics") -> uuid.UUID:
    org_id = uuid.uuid4()
    insert_rows(conn, "organizations", [{"id": org_id, "name": name}])
    return org_id


def job_runs(engine: Engine, order: str = "started_at, target_date") -> list[dict[str, Any]]:
    """Every job_runs row (all columns, plus `done` = finished_at is set), oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT *, finished_at IS NOT NULL AS done FROM job_runs ORDER BY {order}")
        ).mappings()
        return [dict(r) for r in rows]


# When a recorded run finished unless told otherwise: a fixed moment, so `as_of` is exact.
RUN_FINISHED = datetime(2026, 1, 1, 3, 0, 12, tzinfo=UTC)


def record_run(
    conn: Connection,
    job: str,
    day: date,
    org_id: uuid.UUID | None = None,
    status: str = "succeeded",
    finished_at: datetime = RUN_FINISHED,
) -> uuid.UUID:
    """One job_runs row, as a finished run of `job` for `day` would leave it (the ledger the
    reports read, built by hand); `org_id` limits it to one organization."""
    run_id = uuid.uuid4()
    insert_rows(
        conn,
        "job_runs",
        [
            {
                "id": run_id,
                "job": job,
                "target_date": day,
                "trigger": "manual",
                "status": status,
                "started_at": finished_at - timedelta(seconds=5),
                "finished_at": finished_at,
                "org_id": org_id,
            }
        ],
    )
    return run_id


@contextmanager
def refusing_writes(engine: Engine, table: str, column: str, value: Any) -> Iterator[None]:
    """A trigger that makes the database refuse rows of `table` whose `column` = `value`
    (None: every row): a real failure inside the job, without touching its code."""
    condition = "true" if value is None else f"NEW.{column} = '{value}'"
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION handler_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF {condition} THEN RAISE EXCEPTION 'refused by the test trigger';"
                " END IF; RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER handler_test_refuse BEFORE INSERT OR UPDATE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION handler_test_refuse()"
            )
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS handler_test_refuse ON {table}"))
            conn.execute(text("DROP FUNCTION IF EXISTS handler_test_refuse()"))


@contextmanager
def holding_run_lock(engine: Engine, job: str, day: date) -> Iterator[None]:
    """Hold the advisory lock a live run of (job, day) holds (ledger.JOB_LOCK_DAY: the whole
    job's), as another process would, until the block ends."""
    from opsmetrics.ledger import LOCK_KEY_SQL

    with engine.connect() as holder:
        holder.begin()
        holder.execute(
            text(f"SELECT pg_advisory_xact_lock({LOCK_KEY_SQL.format(job=':job', day=':day')})"),
            {"job": job, "day": day},
        )
        try:
            yield
        finally:
            holder.rollback()


def cancel_week(engine: Engine, postcodes: Sequence[str], sunday: date) -> None:
    """A data correction: the bookings at these site postcodes in the week ending `sunday`
    (its 7-day window) are cancelled after the fact."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE bookings SET status = 'cancelled'"
                " WHERE site_postcode = ANY(CAST(:postcodes AS text[]))"
                " AND shift_date BETWEEN :first AND :sunday"
            ),
            {"postcodes": list(postcodes), "first": sunday - timedelta(days=6), "sunday": sunday},
        )
