"""In-doubt recipients settled by SendGrid's events, and the unconfirmed ones resent.

A batch is in doubt when its request may have reached SendGrid but the answer was lost. Any
event SendGrid posts for a recipient of that campaign (processed, delivered, deferred, a
bounce, an open...) proves SendGrid took the message, so the recipient's row moves from
in_doubt to sent, with a note saying so. This runs as events arrive (in the transaction that
stores them) and again when an editor or the worker resolves the campaign, since the events
may have come before the batch was found in doubt.

Recipients no event confirmed are resent only once a quiet period has passed since their
batch was found in doubt (SendGrid posts events within about a minute): before that, a resend
could duplicate a message whose events are still on their way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from mailer.db.tables import batches, campaigns, deliveries, events

CONFIRMED_BY_EVENTS = "sent: SendGrid's events confirmed it after its request's answer was lost"
"""The note (deliveries.error) of a row settled by events; ``campaigns show`` counts them."""
RESENT_UNCONFIRMED = "resent: no SendGrid event confirmed it within the quiet period"


class Tied(Protocol):
    """What settling needs of a stored event (``store_types.StoredEvent`` has it)."""

    @property
    def campaign_id(self) -> int | None: ...

    @property
    def subscriber_id(self) -> int | None: ...


SLICE = 1000
"""Subscriber ids per statement: a POST of thousands of events must not bind more."""


def settle_new_events(connection: sa.Connection, new_events: Iterable[Tied], now: datetime) -> int:
    """Mark sent the in-doubt recipients these newly stored events are about (those of a
    campaign with an in-doubt batch); returns how many rows moved."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for event in new_events:
        if event.campaign_id is not None and event.subscriber_id is not None:
            wanted[event.campaign_id].add(event.subscriber_id)
    if not wanted:
        return 0
    # Most events are of campaigns with nothing in doubt: one indexed look at their batches
    # spares an update per event.
    doubtful = set(
        connection.execute(
            sa.select(batches.c.campaign_id)
            .where(batches.c.campaign_id.in_(sorted(wanted)), batches.c.status == "in_doubt")
            .distinct()
        ).scalars()
    )
    moved = 0
    # In one order (campaign, then subscriber) for every server, as the events are inserted.
    for campaign_id in sorted(doubtful):
        ids = sorted(wanted[campaign_id])
        for start in range(0, len(ids), SLICE):
            moved += _confirm(
                connection,
                sa.and_(
                    deliveries.c.campaign_id == campaign_id,
                    deliveries.c.subscriber_id.in_(ids[start : start + SLICE]),
                ),
                now,
            )
    return moved


def settle_campaign(connection: sa.Connection, campaign_id: int, now: datetime) -> int:
    """Mark sent every in-doubt recipient of the campaign that has any event of it stored;
    returns how many rows moved."""
    has_event = (
        sa.select(events.c.id)
        .where(
            events.c.subscriber_id == deliveries.c.subscriber_id,
            events.c.campaign_id == campaign_id,
        )
        .exists()
    )
    return _confirm(connection, sa.and_(deliveries.c.campaign_id == campaign_id, has_event), now)


def _confirm(connection: sa.Connection, rows: sa.ColumnElement[bool], now: datetime) -> int:
    # Only rows still in doubt: a sent, failed or resent row is never changed by an event.
    result = connection.execute(
        sa.update(deliveries)
        .where(rows, deliveries.c.status == "in_doubt")
        .values(status="sent", error=CONFIRMED_BY_EVENTS, updated_at=now)
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Doubt:
    """A campaign's recipients still in doubt, and when the last of their batches was found
    in doubt (None if none of them has a batch on record)."""

    count: int
    last_found: datetime | None

    def quiet_until(self, quiet: timedelta) -> datetime | None:
        """When the unconfirmed ones may be resent (None: at once)."""
        return None if self.last_found is None else self.last_found + quiet


def in_doubt(connection: sa.Connection, campaign_id: int) -> Doubt:
    # A batch is found in doubt when it is closed (finished_at); one never closed counts
    # from when it was made.
    found_at = sa.func.coalesce(batches.c.finished_at, batches.c.created_at)
    row = connection.execute(
        sa.select(sa.func.count(), sa.func.max(found_at))
        .select_from(deliveries.outerjoin(batches, batches.c.id == deliveries.c.batch_id))
        .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "in_doubt")
    ).one()
    return Doubt(int(row[0]), row[1])


def resend_unconfirmed(connection: sa.Connection, campaign_id: int, now: datetime) -> int:
    """The in-doubt rows (those no event confirmed) go back to pending for a sender to send
    again, with a note of why; returns how many."""
    result = connection.execute(
        sa.update(deliveries)
        .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "in_doubt")
        .values(status="pending", batch_id=None, error=RESENT_UNCONFIRMED, updated_at=now)
    )
    return int(result.rowcount)


def campaigns_with_doubt(connection: sa.Connection, statuses: Sequence[str]) -> dict[int, int]:
    """Campaigns in one of ``statuses`` that have an in-doubt batch: campaign id -> its
    newest in-doubt batch id (rows can only fall in doubt with a new such batch)."""
    rows = connection.execute(
        sa.select(batches.c.campaign_id, sa.func.max(batches.c.id))
        .join(campaigns, campaigns.c.id == batches.c.campaign_id)
        .where(batches.c.status == "in_doubt", campaigns.c.status.in_(list(statuses)))
        .group_by(batches.c.campaign_id)
    )
    return {int(campaign_id): int(batch_id) for campaign_id, batch_id in rows}
