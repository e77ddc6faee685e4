"""Alembic environment: runs against the connection handed over by :func:`copilot.db.migrate`."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    from sqlalchemy import create_engine

    from copilot.config import get_settings

    connection = create_engine(get_settings().resolved_database_url).connect()

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
