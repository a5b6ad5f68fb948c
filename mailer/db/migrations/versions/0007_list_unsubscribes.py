"""Unsubscribes outlive their list: deleting a list keeps who had unsubscribed from it, and a
list created again under that name starts with them unsubscribed, never confirmed again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_unsubscribes",
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column(
            "subscriber_id",
            BigId,
            sa.ForeignKey(
                "subscribers.id",
                ondelete="CASCADE",
                name=op.f("fk_list_unsubscribes_subscriber_id_subscribers"),
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("unsubscribed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("list_name", "subscriber_id", name=op.f("pk_list_unsubscribes")),
    )
    op.create_index("ix_list_unsubscribes_subscriber_id", "list_unsubscribes", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_list_unsubscribes_subscriber_id", table_name="list_unsubscribes")
    op.drop_table("list_unsubscribes")
