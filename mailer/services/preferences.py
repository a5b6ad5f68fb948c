"""A subscriber's own page, reached through the signed link in every mail: which lists they
get (public lists, and private ones they are on), their name and time zone, leaving
everything, a copy of their data, and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.attributes import InvalidField, check_name, check_timezone
from mailer.audience.subscribers import forget_subscriber
from mailer.audience.suppressions import add_suppression
from mailer.db.engine import write_transaction
from mailer.db.tables import lists, memberships, subscribers, suppressions
from mailer.errors import FieldError
from mailer.links import PREFERENCES
from mailer.services.consent import Origin, record
from mailer.services.subscriber_links import open_link, subscriber_of

SUBSCRIBED = ("confirmed", "unconfirmed")


@dataclass(frozen=True)
class ListChoice:
    name: str
    title: str
    description: str
    status: str | None
    """The person's membership status, None when they were never on the list."""

    @property
    def subscribed(self) -> bool:
        return self.status in SUBSCRIBED


@dataclass(frozen=True)
class Preferences:
    subscriber_id: int
    email: str
    name: str
    timezone: str | None
    lists: tuple[ListChoice, ...]


def _subscriber_id(mailer: Mailer, token: str) -> int:
    target = open_link(mailer, PREFERENCES, token)
    with mailer.engine.connect() as connection:
        return subscriber_of(connection, target)


def _choices(connection: sa.Connection, subscriber_id: int) -> tuple[ListChoice, ...]:
    mine = sa.and_(
        memberships.c.list_id == lists.c.id, memberships.c.subscriber_id == subscriber_id
    )
    rows = connection.execute(
        sa.select(lists.c.name, lists.c.title, lists.c.description, memberships.c.status)
        .select_from(lists.outerjoin(memberships, mine))
        # A private list is shown only to its members: its name is nobody else's business.
        .where(sa.or_(lists.c.public, memberships.c.status.is_not(None)))
        .order_by(lists.c.title, lists.c.name)
    ).all()
    return tuple(ListChoice(row.name, row.title, row.description, row.status) for row in rows)


def _load(connection: sa.Connection, subscriber_id: int) -> Preferences:
    row = connection.execute(
        sa.select(subscribers.c.email, subscribers.c.name, subscribers.c.timezone).where(
            subscribers.c.id == subscriber_id
        )
    ).one()
    choices = _choices(connection, subscriber_id)
    return Preferences(subscriber_id, row.email, row.name, row.timezone, choices)


def load_preferences(mailer: Mailer, token: str) -> Preferences:
    subscriber_id = _subscriber_id(mailer, token)
    with mailer.engine.connect() as connection:
        return _load(connection, subscriber_id)


def save_preferences(
    mailer: Mailer, token: str, *, name: str, timezone: str, wanted: set[str], origin: Origin
) -> Preferences:
    """Store the name and zone, and join or leave lists to match ``wanted`` (names of lists
    the page offered). Joining from here needs no confirmation mail: the link proves the
    address is theirs."""
    subscriber_id = _subscriber_id(mailer, token)
    try:
        checked_name = check_name(name)
    except InvalidField as exc:
        raise FieldError("name", str(exc)) from None
    try:
        checked_zone = check_timezone(timezone)
    except InvalidField as exc:
        raise FieldError("timezone", str(exc)) from None
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        offered = {choice.name: choice for choice in _choices(connection, subscriber_id)}
        if not wanted <= offered.keys():
            raise FieldError("lists", "choose among the lists shown on the page")
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(name=checked_name, timezone=checked_zone, updated_at=now)
        )
        joining = [name for name in sorted(wanted) if not offered[name].subscribed]
        leaving = [
            name for name, choice in offered.items() if choice.subscribed and name not in wanted
        ]
        _join(connection, subscriber_id, joining, offered, origin, now, mailer)
        _set_status(connection, subscriber_id, leaving, "unsubscribed", now)
        keep_ip = mailer.settings.web.record_ip
        record(connection, subscriber_id, leaving, "unsubscribe", origin, now, keep_ip=keep_ip)
        return _load(connection, subscriber_id)


def _join(
    connection: sa.Connection,
    subscriber_id: int,
    names: list[str],
    offered: dict[str, ListChoice],
    origin: Origin,
    now: datetime,
    mailer: Mailer,
) -> None:
    if not names:
        return
    # Leaving everything had suppressed the address as "unsubscribe"; choosing a list again
    # on their own page is their word to the contrary. Bounces and complaints stay.
    connection.execute(
        sa.delete(suppressions).where(
            suppressions.c.email_key == _address_key(connection, subscriber_id),
            suppressions.c.reason == "unsubscribe",
        )
    )
    returning = [name for name in names if offered[name].status == "unsubscribed"]
    new = [name for name in names if offered[name].status is None]
    _set_status(connection, subscriber_id, returning, "confirmed", now)
    for name in new:
        list_id = connection.execute(sa.select(lists.c.id).where(lists.c.name == name)).scalar_one()
        connection.execute(
            sa.insert(memberships).values(
                list_id=list_id,
                subscriber_id=subscriber_id,
                status="confirmed",
                source=origin.source[:200],
                created_at=now,
                updated_at=now,
            )
        )
    keep_ip = mailer.settings.web.record_ip
    record(connection, subscriber_id, returning, "resubscribe", origin, now, keep_ip=keep_ip)
    record(connection, subscriber_id, new, "subscribe", origin, now, keep_ip=keep_ip)


def _set_status(
    connection: sa.Connection, subscriber_id: int, names: list[str], status: str, now: datetime
) -> None:
    if not names:
        return
    named = sa.select(lists.c.id).where(lists.c.name.in_(names))
    connection.execute(
        sa.update(memberships)
        .where(memberships.c.subscriber_id == subscriber_id, memberships.c.list_id.in_(named))
        .values(status=status, updated_at=now)
    )


def _address_key(connection: sa.Connection, subscriber_id: int) -> str:
    return str(
        connection.execute(
            sa.select(subscribers.c.email_key).where(subscribers.c.id == subscriber_id)
        ).scalar_one()
    )


def leave_everything(mailer: Mailer, token: str, origin: Origin) -> Preferences:
    """Unsubscribed from every list, and suppressed: no list made later will mail them."""
    subscriber_id = _subscriber_id(mailer, token)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        offered = _choices(connection, subscriber_id)
        leaving = [choice.name for choice in offered if choice.subscribed]
        _set_status(connection, subscriber_id, leaving, "unsubscribed", now)
        row = connection.execute(
            sa.select(subscribers.c.email, subscribers.c.email_key).where(
                subscribers.c.id == subscriber_id
            )
        ).one()
        add_suppression(
            connection, row.email_key, row.email, "unsubscribe", "from all lists", lambda: now
        )
        keep_ip = mailer.settings.web.record_ip
        record(connection, subscriber_id, leaving, "unsubscribe", origin, now, keep_ip=keep_ip)
        return _load(connection, subscriber_id)


def data_of(mailer: Mailer, token: str) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data ("download my data")."""
    from mailer.services.personal_data import personal_data

    subscriber_id = _subscriber_id(mailer, token)
    with mailer.engine.connect() as connection:
        return personal_data(connection, subscriber_id)


def erase(mailer: Mailer, token: str) -> None:
    """Forget the person: their row, memberships and history go; a hash of the address stays
    suppressed so no later import mails them."""
    subscriber_id = _subscriber_id(mailer, token)
    with mailer.engine.connect() as connection:
        email = connection.execute(
            sa.select(subscribers.c.email).where(subscribers.c.id == subscriber_id)
        ).scalar_one()
    forget_subscriber(mailer.engine, email, mailer.clock)
