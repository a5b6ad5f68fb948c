"""Scheduling: schedule details on campaigns, waiting (local-time) deliveries, recurring
schedules, and APScheduler's job store.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES_BEFORE = "status IN ('pending', 'in_flight', 'sent', 'failed', 'skipped', 'in_doubt')"
STATUSES_AFTER = (
    "status IN ('waiting', 'pending', 'in_flight', 'sent', 'failed', 'skipped', 'in_doubt')"
)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("zone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("local_time", sa.String(5), nullable=True))
        batch.add_column(sa.Column("schedule_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("waiting_until", UtcDateTime, nullable=True))
    # SQLite cannot alter a constraint: batch mode copies the table (kept WITHOUT ROWID).
    with op.batch_alter_table("deliveries", recreate="auto") as batch:
        batch.add_column(sa.Column("due_at", UtcDateTime, nullable=True))
        batch.drop_constraint("ck_deliveries_status", type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_status"), STATUSES_AFTER)
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("transport", sa.String(16), nullable=True),
        sa.Column("issues", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_tick_at", UtcDateTime, nullable=True),
        sa.Column("last_result", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("issues IN ('next-ready')", name=op.f("ck_schedules_issues")),
        sa.CheckConstraint("origin IN ('cli', 'config')", name=op.f("ck_schedules_origin")),
    )
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("schedules")
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'waiting'")
    with op.batch_alter_table("deliveries", recreate="auto") as batch:
        batch.drop_constraint("ck_deliveries_status", type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_status"), STATUSES_BEFORE)
        batch.drop_column("due_at")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("waiting_until")
        batch.drop_column("schedule_name")
        batch.drop_column("local_time")
        batch.drop_column("zone")
