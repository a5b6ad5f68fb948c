"""Subscriber search that stays fast on a million people: ``subscribers.name_key``, the
lower-cased name computed by the database (not stored on SQLite, stored on PostgreSQL) and
indexed for name-prefix searches, and an index of the memberships that are not confirmed, by
list and status, so a rare status is found without walking the whole list.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# As mailer.db.tables on the day of this migration.
NOT_CONFIRMED = "status <> 'confirmed'"


def upgrade() -> None:
    # SQLite can add only a virtual generated column, which is what it should be there; the
    # index alone holds the values. PostgreSQL rewrites the table to store them.
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "subscribers",
        sa.Column("name_key", sa.String(200), sa.Computed("lower(name)", persisted=stored)),
    )
    op.create_index("ix_subscribers_name_key", "subscribers", ["name_key"])
    op.create_index(
        "ix_memberships_list_status",
        "memberships",
        ["list_id", "status"],
        sqlite_where=sa.text(NOT_CONFIRMED),
        postgresql_where=sa.text(NOT_CONFIRMED),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_list_status", table_name="memberships")
    op.drop_index("ix_subscribers_name_key", table_name="subscribers")
    # ALTER TABLE ... DROP COLUMN on both databases, never a batch copy of the table: on SQLite
    # that copy drops the old table, and with foreign keys on, dropping subscribers deletes
    # every membership, delivery and event of theirs.
    op.execute("ALTER TABLE subscribers DROP COLUMN name_key")
