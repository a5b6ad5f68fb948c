"""The public archive: what a campaign's issue was called and its preheader, stored with its
content when the send starts, and whether the issue may be shown in the archive and feed
(``archive: false`` in its front matter), so the archive never reads issue files.

Campaigns already started were sent with no way to keep them out: they stay archived.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("title", sa.Text, nullable=True))
        batch.add_column(sa.Column("preheader", sa.Text, nullable=True))
        batch.add_column(
            sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("archived")
        batch.drop_column("preheader")
        batch.drop_column("title")
