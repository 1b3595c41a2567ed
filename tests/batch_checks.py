"""What the batch-equivalence tests compare: an output table's rows, byte for byte, and each
date's ledger stats without the timings a batch shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

# Stats that say how long a run took or which pass it was part of, not what it computed.
TIMING_KEYS = {
    "duration_ms",
    "lock_wait_ms",
    "batch",
    "aggregate_ms",
    "write_ms",
    "batches",
    "batches_retried",
}


def table_digest(engine: Engine, table: str, order: str, leave_out: set[str]) -> tuple[int, str]:
    """(rows, md5 of every row's text in `order`), every column but `leave_out` (the moments a
    run computed them at, which differ between any two runs)."""
    with engine.connect() as conn:
        columns = [
            c
            for c in conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            ).scalars()
            if c not in leave_out
        ]
        row = conn.execute(
            text(
                f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY {order}), ''))"
                f" FROM (SELECT {', '.join(columns)} FROM {table}) r"
            )
        ).one()
    return int(row[0]), str(row[1])


def ledger_by_date(engine: Engine, job: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each target date's latest run: its status and its stats without TIMING_KEYS."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (target_date) target_date, status, stats FROM job_runs"
                " WHERE job = :job ORDER BY target_date, started_at DESC"
            ),
            {"job": job},
        ).all()
    return {
        r.target_date.isoformat(): (
            r.status,
            {k: v for k, v in r.stats.items() if k not in TIMING_KEYS},
        )
        for r in rows
    }


def runs_per_date(engine: Engine, job: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT target_date, count(*) FROM job_runs WHERE job = :job GROUP BY 1"),
            {"job": job},
        ).all()
    return {r[0].isoformat(): int(r[1]) for r in rows}
