"""Schema migrations (alembic), shipped inside the package.

Two branches: `source` creates the products' tables (organizations, medics, territories,
bookings, topic_classifications, escalation_alerts) so the project runs and tests alone;
`outputs` creates the project's own tables (territory_metrics, communication_trends, job_runs).
A product database that already has the source tables takes only `outputs`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

# Our own version table, so we never collide with the products' alembic_version.
VERSION_TABLE = "opsmetrics_schema_version"
_LOCK_KEY = 0x0A5E_0001  # advisory lock so two upgrades at once run one after the other


def _config(connection: object) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, *, outputs_only: bool = False) -> list[str]:
    """Bring the schema up to date; safe to repeat. Returns the revisions now applied."""
    from alembic import command

    targets = ["outputs@head"] if outputs_only else ["source@head", "outputs@head"]
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        cfg = _config(conn)
        for target in targets:
            command.upgrade(cfg, target)  # type: ignore[arg-type]
    return current(engine)


def current(engine: Engine) -> list[str]:
    """The applied revisions (empty on a database that was never upgraded)."""
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}).scalar()
        if exists is None:
            return []
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE} ORDER BY 1"))
        return [r[0] for r in rows]
