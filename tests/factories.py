"""Small builders for hand-computed fixtures: one multi-row INSERT per call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
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
