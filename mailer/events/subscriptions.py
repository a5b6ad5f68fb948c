"""SendGrid's spam reports, unsubscribes and group (ASM) unsubscribes into memberships,
each change in the consent record.

- ``spamreport``: unsubscribed from every list (source "SendGrid spam report").
- ``unsubscribe`` (SendGrid's subscription tracking, which is global at SendGrid): from
  every list (source "SendGrid").
- ``group_unsubscribe``: from the list of the campaign the mail was for; from every list
  when the campaign is not known or its list is gone (source "SendGrid group
  unsubscribe").
- ``group_resubscribe``: undoes a group unsubscribe only: a list is confirmed again when
  the person's latest record on it is a SendGrid group unsubscribe. A spam report, an
  unsubscribe of another kind and any suppression (bounce, complaint) stay.

Events act in the order they happened, and only on the address they name (see
``addresses``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import campaigns, consent_events, lists, memberships
from mailer.events.addresses import Targets
from mailer.events.store_types import StoredEvent
from mailer.services.consent import Origin, record

SPAM_REPORT_SOURCE = "SendGrid spam report"
UNSUBSCRIBE_SOURCE = "SendGrid"
GROUP_UNSUBSCRIBE_SOURCE = "SendGrid group unsubscribe"
GROUP_RESUBSCRIBE_SOURCE = "SendGrid group resubscribe"
KINDS = ("spamreport", "unsubscribe", "group_unsubscribe", "group_resubscribe")


def apply_subscription_events(
    connection: sa.Connection,
    new_events: Sequence[StoredEvent],
    targets: Targets,
    now: datetime,
) -> None:
    chosen = [stored for stored in new_events if stored.event.kind in KINDS]
    if not chosen:
        return
    list_of = _campaign_lists(connection, {s.campaign_id for s in chosen if s.campaign_id})
    for stored in sorted(chosen, key=lambda s: (s.event.occurred_at, s.id)):
        target = targets.of(stored)
        if target is None or target.subscriber_id is None:
            continue
        kind = stored.event.kind
        on_list = list_of.get(stored.campaign_id) if stored.campaign_id else None
        if kind == "spamreport":
            _leave(connection, target.subscriber_id, None, SPAM_REPORT_SOURCE, now)
        elif kind == "unsubscribe":
            _leave(connection, target.subscriber_id, None, UNSUBSCRIBE_SOURCE, now)
        elif kind == "group_unsubscribe":
            _leave(connection, target.subscriber_id, on_list, GROUP_UNSUBSCRIBE_SOURCE, now)
        else:
            _rejoin(connection, target.subscriber_id, on_list, now)


def _campaign_lists(connection: sa.Connection, campaign_ids: set[int]) -> dict[int, int]:
    """Each campaign's list, for the campaigns whose list still exists."""
    if not campaign_ids:
        return {}
    rows = connection.execute(
        sa.select(campaigns.c.id, campaigns.c.list_id).where(
            campaigns.c.id.in_(sorted(campaign_ids)), campaigns.c.list_id.is_not(None)
        )
    )
    return {row.id: row.list_id for row in rows}


def _memberships(
    connection: sa.Connection,
    subscriber_id: int,
    list_id: int | None,
    status: sa.ColumnElement[bool],
) -> list[sa.Row[Any, Any]]:
    query = (
        sa.select(memberships.c.list_id, lists.c.name)
        .join(lists, lists.c.id == memberships.c.list_id)
        .where(memberships.c.subscriber_id == subscriber_id, status)
        .order_by(lists.c.name)
    )
    if list_id is not None:
        query = query.where(memberships.c.list_id == list_id)
    return list(connection.execute(query).all())


def _set(
    connection: sa.Connection,
    subscriber_id: int,
    rows: Sequence[sa.Row[Any, Any]],
    status: str,
    action: str,
    source: str,
    now: datetime,
) -> None:
    if not rows:
        return
    connection.execute(
        sa.update(memberships)
        .where(
            memberships.c.subscriber_id == subscriber_id,
            memberships.c.list_id.in_([row.list_id for row in rows]),
        )
        .values(status=status, updated_at=now)
    )
    names = [row.name for row in rows]
    record(connection, subscriber_id, names, action, Origin(source), now, keep_ip=False)


def _leave(
    connection: sa.Connection, subscriber_id: int, list_id: int | None, source: str, now: datetime
) -> None:
    """Unsubscribe from ``list_id`` (every list when None) where not unsubscribed yet."""
    rows = _memberships(connection, subscriber_id, list_id, memberships.c.status != "unsubscribed")
    _set(connection, subscriber_id, rows, "unsubscribed", "unsubscribe", source, now)


def _rejoin(
    connection: sa.Connection, subscriber_id: int, list_id: int | None, now: datetime
) -> None:
    """Confirm again the lists (``list_id``, or any when None) that the person's latest
    record says a SendGrid group unsubscribe left."""
    left = _memberships(connection, subscriber_id, list_id, memberships.c.status == "unsubscribed")
    if not left:
        return
    history = connection.execute(
        sa.select(consent_events.c.list_name, consent_events.c.action, consent_events.c.source)
        .where(
            consent_events.c.subscriber_id == subscriber_id,
            consent_events.c.list_name.in_([row.name for row in left]),
        )
        .order_by(consent_events.c.created_at, consent_events.c.id)
    ).all()
    latest = {row.list_name: (row.action, row.source) for row in history}
    undone = [
        row for row in left if latest.get(row.name) == ("unsubscribe", GROUP_UNSUBSCRIBE_SOURCE)
    ]
    _set(
        connection, subscriber_id, undone, "confirmed", "resubscribe", GROUP_RESUBSCRIBE_SOURCE, now
    )
