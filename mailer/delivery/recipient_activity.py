"""A campaign's recipients with what SendGrid's events told of each (the outcome, the first
open and click, by anyone and by a person), a page at a time in subscriber id order, chosen
by the ledger's status, the events' outcome and whether they opened or clicked.

Each page is one short read over the campaign's ledger rows (their primary key starts with
the campaign), so a million-recipient campaign is never read whole for one page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from mailer.db.tables import deliveries, subscribers


class Activity(StrEnum):
    """Which recipients a page shows by what they did with the mail."""

    opened = "opened"
    opened_by_person = "opened_by_person"
    """Opened at least once not by a machine (Apple Mail's privacy prefetch and the like)."""
    not_opened = "not_opened"
    clicked = "clicked"
    clicked_by_person = "clicked_by_person"
    """Clicked at least once without the click being judged automated."""
    not_clicked = "not_clicked"


NO_OUTCOME = "none"
"""The outcome filter's value for recipients no event has told of yet."""


@dataclass(frozen=True)
class RecipientFilter:
    status: str | None = None
    """The ledger's status (waiting, pending, ..., sent, failed); None: any."""
    outcome: str | None = None
    """What the events say (delivered, bounced, ...), ``NO_OUTCOME`` for none yet; None: any."""
    activity: Activity | None = None


@dataclass(frozen=True, slots=True)
class RecipientActivity:
    subscriber_id: int
    email: str
    name: str
    status: str
    reason: str | None
    """Why the send failed, was skipped or is in doubt (or how it was settled)."""
    outcome: str | None
    outcome_reason: str | None
    first_open_at: int | None
    """Seconds since 1970, as events keep time; None: never opened."""
    first_human_open_at: int | None
    first_click_at: int | None
    first_human_click_at: int | None
    updated_at: datetime


_COLUMNS = (
    deliveries.c.subscriber_id,
    subscribers.c.email,
    subscribers.c.name,
    deliveries.c.status,
    deliveries.c.error,
    deliveries.c.outcome,
    deliveries.c.outcome_reason,
    deliveries.c.first_open_at,
    deliveries.c.first_human_open_at,
    deliveries.c.first_click_at,
    deliveries.c.first_human_click_at,
    deliveries.c.updated_at,
)
_ACTIVITY = {
    Activity.opened: deliveries.c.first_open_at.is_not(None),
    Activity.opened_by_person: deliveries.c.first_human_open_at.is_not(None),
    Activity.not_opened: deliveries.c.first_open_at.is_(None),
    Activity.clicked: deliveries.c.first_click_at.is_not(None),
    Activity.clicked_by_person: deliveries.c.first_human_click_at.is_not(None),
    Activity.not_clicked: deliveries.c.first_click_at.is_(None),
}


def _conditions(chosen: RecipientFilter) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if chosen.status is not None:
        found.append(deliveries.c.status == chosen.status)
    if chosen.outcome == NO_OUTCOME:
        found.append(deliveries.c.outcome.is_(None))
    elif chosen.outcome is not None:
        found.append(deliveries.c.outcome == chosen.outcome)
    if chosen.activity is not None:
        found.append(_ACTIVITY[chosen.activity])
    return found


def recipient_activity(
    engine: sa.Engine, campaign_id: int, chosen: RecipientFilter, *, after: int, limit: int
) -> list[RecipientActivity]:
    """Up to ``limit`` recipients of the campaign matching ``chosen``, in subscriber id order
    after the subscriber ``after``."""
    query = (
        sa.select(*_COLUMNS)
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.subscriber_id > after,
            *_conditions(chosen),
        )
        .order_by(deliveries.c.subscriber_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [RecipientActivity(*tuple(row)) for row in rows]
