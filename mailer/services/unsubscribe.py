"""Unsubscribing through a link in a mail (RFC 8058's one-click POST, or the button on the
page a click opens), and undoing it. Repeating either changes nothing and is never an error:
mail clients and link scanners repeat requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.db.tables import list_unsubscribes, lists, memberships
from mailer.links import UNSUBSCRIBE
from mailer.services.consent import Origin, record
from mailer.services.subscriber_links import open_link, subscriber_of


@dataclass(frozen=True)
class LinkOutcome:
    list_name: str
    """The list the link is about ("" for every list)."""
    changed: tuple[str, ...]
    """The lists whose membership this request changed (empty when it was done already)."""


def _list_condition(subscriber_id: int, list_name: str) -> sa.ColumnElement[bool]:
    mine = memberships.c.subscriber_id == subscriber_id
    if not list_name:
        return mine
    on_list = sa.select(lists.c.id).where(lists.c.name == list_name).scalar_subquery()
    return sa.and_(mine, memberships.c.list_id == on_list)


def _names(connection: sa.Connection, condition: sa.ColumnElement[bool]) -> list[str]:
    return list(
        connection.execute(
            sa.select(lists.c.name)
            .join(memberships, memberships.c.list_id == lists.c.id)
            .where(condition)
            .order_by(lists.c.name)
        ).scalars()
    )


def unsubscribe_by_link(mailer: Mailer, token: str, origin: Origin) -> LinkOutcome:
    """Unsubscribe the link's subscriber from its list (from every list when it names none).
    A send in progress skips them from its next batch on (the ledger checks memberships)."""
    target = open_link(mailer, UNSUBSCRIBE, token)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        subscriber_id = subscriber_of(connection, target)
        condition = sa.and_(
            _list_condition(subscriber_id, target.list_name),
            memberships.c.status != "unsubscribed",
        )
        changed = _names(connection, condition)
        if changed:
            connection.execute(
                sa.update(memberships)
                .where(condition)
                .values(status="unsubscribed", updated_at=now)
            )
        elif target.list_name and _list_is_gone(connection, target.list_name):
            _keep_for_a_list_made_again(connection, subscriber_id, target.list_name, origin, now)
        keep_ip = mailer.settings.web.record_ip
        record(connection, subscriber_id, changed, "unsubscribe", origin, now, keep_ip=keep_ip)
    return LinkOutcome(target.list_name, tuple(changed))


def resubscribe_by_link(mailer: Mailer, token: str, origin: Origin) -> LinkOutcome:
    """Undo an unsubscribe made by mistake: the link's lists are confirmed again. Only lists
    the person had left are touched; someone never on a list is not added to it."""
    target = open_link(mailer, UNSUBSCRIBE, token)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        subscriber_id = subscriber_of(connection, target)
        condition = sa.and_(
            _list_condition(subscriber_id, target.list_name),
            memberships.c.status == "unsubscribed",
        )
        changed = _names(connection, condition)
        if changed:
            connection.execute(
                sa.update(memberships).where(condition).values(status="confirmed", updated_at=now)
            )
        keep_ip = mailer.settings.web.record_ip
        record(connection, subscriber_id, changed, "resubscribe", origin, now, keep_ip=keep_ip)
    return LinkOutcome(target.list_name, tuple(changed))


def _list_is_gone(connection: sa.Connection, list_name: str) -> bool:
    found = connection.execute(sa.select(lists.c.id).where(lists.c.name == list_name)).first()
    return found is None


def _keep_for_a_list_made_again(
    connection: sa.Connection, subscriber_id: int, list_name: str, origin: Origin, now: datetime
) -> None:
    """A link to a list deleted since: nothing to change now, but a list created again under
    that name must not mail them."""
    exists = connection.execute(
        sa.select(list_unsubscribes.c.subscriber_id).where(
            list_unsubscribes.c.list_name == list_name,
            list_unsubscribes.c.subscriber_id == subscriber_id,
        )
    ).first()
    if exists is None:
        connection.execute(
            sa.insert(list_unsubscribes).values(
                list_name=list_name,
                subscriber_id=subscriber_id,
                source=origin.source[:200],
                unsubscribed_at=now,
            )
        )
