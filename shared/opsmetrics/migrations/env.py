"""Alembic environment: always run with a connection handed in by opsmetrics.migrations."""

from __future__ import annotations

from alembic import context

from opsmetrics.migrations import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `opsmetrics db upgrade`")
context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
