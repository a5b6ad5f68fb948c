"""Subscriber imports started from the admin app or the REST API: the ``imports`` table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, Json, UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# As mailer.db.import_tables.IMPORT_STATUS_CHECK on the day of this migration.
STATUS_CHECK = "status IN ('uploaded', 'queued', 'running', 'done', 'failed')"


def upgrade() -> None:
    counts = ("bytes_read", "rows_read", "added", "updated", "unchanged", "rejected", "suppressed")
    op.create_table(
        "imports",
        sa.Column("id", BigId, nullable=False),
        sa.Column("actor", sa.String(330), nullable=False),
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("stored_as", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mapping", Json, nullable=True),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in counts),
        sa.Column("rejects_file", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("heartbeat_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.CheckConstraint(STATUS_CHECK, name=op.f("ck_imports_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )


def downgrade() -> None:
    op.drop_table("imports")
