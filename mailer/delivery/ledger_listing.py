"""A campaign's ledger read out recipient by recipient (who, what happened, why), in pages by
subscriber id, so a million-recipient campaign is never held in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import deliveries, subscribers
from mailer.delivery.campaigns import iso

PAGE = 1000
_COLUMNS = [
    deliveries.c.subscriber_id,
    subscribers.c.email,
    subscribers.c.name,
    deliveries.c.status,
    deliveries.c.error,
    deliveries.c.batch_id,
    deliveries.c.updated_at,
]


@dataclass(frozen=True, slots=True)
class RecipientRow:
    subscriber_id: int
    email: str
    name: str
    status: str
    reason: str | None
    """deliveries.error: why it failed, was skipped or is in doubt (or how it was settled)."""
    batch_id: int | None
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "subscriber_id": self.subscriber_id,
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "batch": self.batch_id,
            "updated_at": iso(self.updated_at),
        }


def recipient_rows(
    engine: sa.Engine,
    campaign_id: int,
    status: str | None = None,
    page: int = PAGE,
    *,
    after: int = 0,
) -> Iterator[RecipientRow]:
    """The campaign's recipients in subscriber id order after the subscriber ``after`` (only
    those in ``status`` if given), read a page at a time, each in a short read of its own."""
    while True:
        query = (
            sa.select(*_COLUMNS)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(deliveries.c.campaign_id == campaign_id, deliveries.c.subscriber_id > after)
            .order_by(deliveries.c.subscriber_id)
            .limit(page)
        )
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            yield RecipientRow(*row)
        if len(rows) < page:
            return
        after = rows[-1][0]
