"""What was sent to one subscriber and what SendGrid's events told of it: their ledger rows
(campaign, status, outcome, error) and their events (kind, time, campaign, link), latest
first and capped, for ``mailer subscribers show``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import campaigns, deliveries, event_urls, events

# Shown at most, of each: a reader of many years has thousands of events.
LATEST = 50


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _epoch_iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DeliveryLine:
    campaign_id: int
    issue_number: int
    status: str
    outcome: str | None
    error: str | None
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "issue": self.issue_number,
            "status": self.status,
            "outcome": self.outcome,
            "error": self.error,
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class EventLine:
    kind: str
    occurred_at: int
    campaign_id: int | None
    url: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": _epoch_iso(self.occurred_at),
            "campaign": self.campaign_id,
            "url": self.url,
        }


@dataclass(frozen=True)
class History:
    deliveries: list[DeliveryLine]
    events: list[EventLine]

    def as_json(self) -> dict[str, Any]:
        return {
            "deliveries": [line.as_json() for line in self.deliveries],
            "events": [line.as_json() for line in self.events],
        }


def subscriber_history(
    connection: sa.Connection, subscriber_id: int, latest: int = LATEST
) -> History:
    delivery_rows = connection.execute(
        sa.select(
            deliveries.c.campaign_id,
            campaigns.c.issue_number,
            deliveries.c.status,
            deliveries.c.outcome,
            deliveries.c.error,
            deliveries.c.updated_at,
        )
        .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
        .where(deliveries.c.subscriber_id == subscriber_id)
        .order_by(deliveries.c.campaign_id.desc())
        .limit(latest)
    )
    event_rows = connection.execute(
        sa.select(events.c.kind, events.c.occurred_at, events.c.campaign_id, event_urls.c.url)
        .outerjoin(event_urls, event_urls.c.id == events.c.url_id)
        .where(events.c.subscriber_id == subscriber_id)
        .order_by(events.c.occurred_at.desc(), events.c.id.desc())
        .limit(latest)
    )
    return History(
        [
            DeliveryLine(
                int(row.campaign_id),
                int(row.issue_number),
                row.status,
                row.outcome,
                row.error,
                row.updated_at,
            )
            for row in delivery_rows
        ],
        [EventLine(row.kind, int(row.occurred_at), row.campaign_id, row.url) for row in event_rows],
    )
