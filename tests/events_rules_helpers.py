"""Ledger rows the event rule tests need: lists, memberships, campaigns for a list and
their deliveries; and reading back suppressions, memberships and delivery rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mailer.audience.addresses import address_hash
from mailer.db.tables import (
    campaigns,
    consent_events,
    deliveries,
    lists,
    memberships,
    subscribers,
    suppressions,
)
from tests.events_helpers import CREATED, add_subscriber, unique


def add_list(engine: sa.Engine) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.insert(lists)
                .values(name=unique("list"), created_at=CREATED)
                .returning(lists.c.id)
            ).scalar_one()
        )


def add_member(engine: sa.Engine, list_ids: list[int], email: str | None = None) -> tuple[int, str]:
    """A subscriber confirmed on ``list_ids``: (id, address)."""
    address = email or f"{unique('reader')}@example.com"
    subscriber = add_subscriber(engine, address)
    with engine.begin() as connection:
        for list_id in list_ids:
            connection.execute(
                sa.insert(memberships).values(
                    list_id=list_id,
                    subscriber_id=subscriber,
                    status="confirmed",
                    created_at=CREATED,
                    updated_at=CREATED,
                )
            )
    return subscriber, address


def add_campaign(engine: sa.Engine, list_id: int, subscriber_ids: list[int]) -> int:
    """A sent campaign for ``list_id`` with a sent delivery for each subscriber."""
    with engine.begin() as connection:
        name = connection.execute(sa.select(lists.c.name).where(lists.c.id == list_id)).scalar()
        campaign = int(
            connection.execute(
                sa.insert(campaigns)
                .values(
                    issue_number=1,
                    issue_file="001.md",
                    list_id=list_id,
                    list_name=name,
                    transport="sendgrid",
                    status="sent",
                    created_at=CREATED,
                    updated_at=CREATED,
                )
                .returning(campaigns.c.id)
            ).scalar_one()
        )
        for subscriber in subscriber_ids:
            connection.execute(
                sa.insert(deliveries).values(
                    campaign_id=campaign,
                    subscriber_id=subscriber,
                    status="sent",
                    updated_at=CREATED,
                )
            )
    return campaign


def suppression(engine: sa.Engine, email: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(suppressions).where(
                suppressions.c.address_hash == address_hash(email.lower())
            )
        ).first()
    return None if row is None else dict(row._mapping)


def statuses(engine: sa.Engine, subscriber: int) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(memberships.c.list_id, memberships.c.status).where(
                memberships.c.subscriber_id == subscriber
            )
        )
        return {row.list_id: row.status for row in rows}


def consent_sources(engine: sa.Engine, subscriber: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(consent_events.c.action, consent_events.c.source)
            .where(consent_events.c.subscriber_id == subscriber)
            .order_by(consent_events.c.id)
        )
        return [(row.action, row.source) for row in rows]


def delivery(engine: sa.Engine, campaign: int, subscriber: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(deliveries).where(
                deliveries.c.campaign_id == campaign, deliveries.c.subscriber_id == subscriber
            )
        ).one()
    return dict(row._mapping)


def subscriber_exists(engine: sa.Engine, subscriber: int) -> bool:
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(subscribers.c.id).where(subscribers.c.id == subscriber)
        )
        return found.first() is not None
