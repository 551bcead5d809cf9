"""Alembic environment: runs on the connection handed over by :func:`goldenchain.store.db.migrate`."""

from __future__ import annotations

from alembic import context

from goldenchain.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    version_table="gc_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
