"""Everything stored about one subscriber, for "download my data": who they are, their lists,
their consent record, what was sent to them and what became of it, and what SendGrid's
events told of their mail (opens and clicks included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import (
    campaigns,
    consent_events,
    deliveries,
    event_urls,
    events,
    lists,
    memberships,
    subscribers,
)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _iso_seconds(seconds: int | None) -> str | None:
    """An epoch time in seconds (what events and outcomes keep), as UTC ISO 8601."""
    return None if seconds is None else _iso(datetime.fromtimestamp(seconds, UTC))


def _events_of(connection: sa.Connection, subscriber_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        sa.select(
            events.c.kind,
            events.c.occurred_at,
            events.c.campaign_id,
            events.c.reason,
            events.c.status,
            events.c.machine,
            event_urls.c.url,
        )
        .outerjoin(event_urls, event_urls.c.id == events.c.url_id)
        .where(events.c.subscriber_id == subscriber_id)
        .order_by(events.c.occurred_at, events.c.id)
    ).all()
    return [
        {
            "event": row.kind,
            "at": _iso_seconds(row.occurred_at),
            "campaign": row.campaign_id,
            "reason": row.reason,
            "status": row.status,
            "machine": row.machine,
            "url": row.url,
        }
        for row in rows
    ]


def personal_data(connection: sa.Connection, subscriber_id: int) -> dict[str, Any]:
    person = connection.execute(
        sa.select(subscribers).where(subscribers.c.id == subscriber_id)
    ).one()
    member_of = connection.execute(
        sa.select(
            lists.c.name, memberships.c.status, memberships.c.source, memberships.c.created_at
        )
        .join(lists, lists.c.id == memberships.c.list_id)
        .where(memberships.c.subscriber_id == subscriber_id)
        .order_by(lists.c.name)
    ).all()
    consent = connection.execute(
        sa.select(consent_events)
        .where(consent_events.c.subscriber_id == subscriber_id)
        .order_by(consent_events.c.created_at, consent_events.c.id)
    ).all()
    sent = connection.execute(
        sa.select(
            campaigns.c.id,
            campaigns.c.issue_number,
            campaigns.c.subject,
            campaigns.c.list_name,
            deliveries.c.status,
            deliveries.c.updated_at,
            deliveries.c.outcome,
            deliveries.c.outcome_reason,
            deliveries.c.first_open_at,
            deliveries.c.first_click_at,
        )
        .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
        .where(deliveries.c.subscriber_id == subscriber_id)
        .order_by(deliveries.c.campaign_id)
    ).all()
    return {
        "email": person.email,
        "name": person.name,
        "timezone": person.timezone,
        "attributes": dict(person.attributes or {}),
        "created_at": _iso(person.created_at),
        "lists": [
            {
                "list": row.name,
                "status": row.status,
                "source": row.source,
                "since": _iso(row.created_at),
            }
            for row in member_of
        ],
        "consent": [
            {
                "list": row.list_name,
                "action": row.action,
                "source": row.source,
                "ip": row.ip,
                "at": _iso(row.created_at),
            }
            for row in consent
        ],
        "mail": [
            {
                "campaign": row.id,
                "issue": row.issue_number,
                "subject": row.subject,
                "list": row.list_name,
                "status": row.status,
                "at": _iso(row.updated_at),
                "outcome": row.outcome,
                "outcome_reason": row.outcome_reason,
                "first_open": _iso_seconds(row.first_open_at),
                "first_click": _iso_seconds(row.first_click_at),
            }
            for row in sent
        ],
        "events": _events_of(connection, subscriber_id),
    }
