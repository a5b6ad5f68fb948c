"""Suppressions by time: a sender looks up only the suppressions added since its snapshot.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_suppressions_created_at", "suppressions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_created_at", table_name="suppressions")
