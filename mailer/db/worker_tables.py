"""The table of running ``mailer worker`` processes: each writes its row at start, renews it
as it loops and removes it on a clean stop, so the admin app can tell that campaigns sent now
(or due) have nobody to send them."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.metadata import metadata
from mailer.db.types import UtcDateTime

workers = sa.Table(
    "workers",
    metadata,
    # "host:pid", as campaigns' owners are named (mailer.delivery.ownership.this_process).
    sa.Column("name", sa.String(300), primary_key=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    # Renewed every few seconds while it runs; a row left by a killed worker just grows old.
    sa.Column("seen_at", UtcDateTime, nullable=False),
)
