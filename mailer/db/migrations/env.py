"""Alembic environment: runs on the connection ``mailer.db.migrate`` hands it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from mailer.db.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, sa.Connection):
    raise RuntimeError("run migrations with `mailer init`, which passes the connection")

# render_as_batch: SQLite can only change a table by copying it, which batch mode does.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
