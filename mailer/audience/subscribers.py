"""Subscribers one by one: add, find, show, unsubscribe, forget."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.audience.addresses import Address, address_hash, address_key, require_address
from mailer.audience.attributes import AttributeValue, check_name, check_timezone
from mailer.audience.lists import find_list
from mailer.audience.staged import IncomingSubscriber
from mailer.audience.suppressions import Suppression, add_suppression, find_suppression
from mailer.audience.upsert import Outcome, RowOutcome, apply_batch
from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import (
    MEMBERSHIP_STATUSES,
    events,
    lists,
    memberships,
    subscribers,
    suppressions,
)
from mailer.errors import MailerError, NotFoundError


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Membership:
    list_name: str
    status: str
    source: str
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "list": self.list_name,
            "status": self.status,
            "source": self.source,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    timezone: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    status: str | None = None
    """Status on the list it was looked up through, if any."""

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "email": self.email,
            "name": self.name,
            "timezone": self.timezone,
            "attributes": self.attributes,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        if self.status is not None:
            data["status"] = self.status
        return data


@dataclass(frozen=True)
class SubscriberDetail:
    subscriber: Subscriber
    memberships: tuple[Membership, ...]
    suppression: Suppression | None

    def as_json(self) -> dict[str, object]:
        return {
            **self.subscriber.as_json(),
            "lists": [membership.as_json() for membership in self.memberships],
            "suppression": self.suppression.as_json() if self.suppression else None,
        }


def subscriber_from_row(row: Any) -> Subscriber:
    """A subscriber from a row of the subscribers table (with a ``status`` column or not)."""
    return Subscriber(
        id=int(row.id),
        email=row.email,
        name=row.name,
        timezone=row.timezone,
        attributes=dict(row.attributes or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=getattr(row, "status", None),
    )


def add_subscribers(
    engine: sa.Engine,
    emails: Sequence[str],
    list_name: str,
    *,
    name: str = "",
    timezone: str = "",
    attributes: Mapping[str, AttributeValue] | None = None,
    confirmed: bool = False,
    source: str = "cli",
    clock: Clock = utc_now,
    remove_attributes: Sequence[str] = (),
) -> list[RowOutcome]:
    """Add addresses to a list with the same rules as an import; nothing is written on a bad one.
    ``remove_attributes`` (lower-case names) are taken off those added or already there."""
    rows = [
        IncomingSubscriber(
            address=require_address(email),
            name=check_name(name),
            timezone=check_timezone(timezone),
            attributes=dict(attributes or {}),
        )
        for email in emails
    ]
    now = clock()
    with write_transaction(engine) as connection:
        mailing_list = find_list(connection, list_name)
        outcomes = apply_batch(
            connection, mailing_list, rows, confirmed=confirmed, source=source, now=now
        )
        if not remove_attributes:
            return outcomes
        on_list = [done.email for done in outcomes if done.outcome not in _LEFT_OFF]
        changed = _remove_attributes(connection, on_list, set(remove_attributes), now)
    return [
        replace(done, outcome=Outcome.UPDATED)
        if done.outcome is Outcome.UNCHANGED and address_key(done.email) in changed
        else done
        for done in outcomes
    ]


_LEFT_OFF = (Outcome.SUPPRESSED, Outcome.UNSUBSCRIBED)


def _remove_attributes(
    connection: sa.Connection, emails: list[str], names: set[str], now: datetime
) -> set[str]:
    """Take the attributes ``names`` off these subscribers; the address keys that changed."""
    found = connection.execute(
        sa.select(subscribers.c.id, subscribers.c.email_key, subscribers.c.attributes).where(
            subscribers.c.email_key.in_([address_key(email) for email in emails])
        )
    ).all()
    changed = set()
    for subscriber_id, key, stored in found:
        kept = {name: value for name, value in (stored or {}).items() if name.lower() not in names}
        if kept != stored:
            changed.add(key)
            connection.execute(
                sa.update(subscribers)
                .where(subscribers.c.id == subscriber_id)
                .values(attributes=kept, updated_at=now)
            )
    return changed


def find_subscribers(
    engine: sa.Engine,
    *,
    list_name: str | None = None,
    status: str | None = None,
    search: str | None = None,
    where: sa.ColumnElement[bool] | None = None,
    limit: int | None = None,
) -> Iterator[Subscriber]:
    """Subscribers by address, optionally on a list (with a status), matching text or a filter."""
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise MailerError(f"status {status!r}: use one of {', '.join(MEMBERSHIP_STATUSES)}")
    with engine.connect() as connection:
        if list_name is not None:
            mailing_list = find_list(connection, list_name)
            query = (
                sa.select(subscribers, memberships.c.status)
                .join(memberships, memberships.c.subscriber_id == subscribers.c.id)
                .where(memberships.c.list_id == mailing_list.id)
            )
            if status is not None:
                query = query.where(memberships.c.status == status)
        elif status is not None:
            raise MailerError("--status needs --list: a status belongs to a list membership")
        else:
            query = sa.select(subscribers)
        if search:
            pattern = (
                "%"
                + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            query = query.where(
                sa.or_(
                    subscribers.c.email_key.like(pattern, escape="\\"),
                    sa.func.lower(subscribers.c.name).like(pattern, escape="\\"),
                )
            )
        if where is not None:
            query = query.where(where)
        query = query.order_by(subscribers.c.email_key).limit(limit)
        for row in connection.execution_options(yield_per=2000).execute(query):
            yield subscriber_from_row(row)


def _require_subscriber(connection: sa.Connection, address: Address) -> Any:
    row = connection.execute(
        sa.select(subscribers).where(subscribers.c.email_key == address.key)
    ).first()
    if row is None:
        raise NotFoundError(f"no subscriber {address.email}")
    return row


def show_subscriber(engine: sa.Engine, email: str) -> SubscriberDetail:
    address = require_address(email)
    with engine.connect() as connection:
        return subscriber_detail(connection, address)


def subscriber_detail(connection: sa.Connection, address: Address) -> SubscriberDetail:
    """``show_subscriber`` inside the caller's connection (NotFoundError if unknown)."""
    row = _require_subscriber(connection, address)
    member_rows = connection.execute(
        sa.select(lists.c.name, memberships)
        .join(lists, lists.c.id == memberships.c.list_id)
        .where(memberships.c.subscriber_id == row.id)
        .order_by(lists.c.name)
    )
    found = tuple(
        Membership(m.name, m.status, m.source, m.created_at, m.updated_at) for m in member_rows
    )
    suppression = find_suppression(connection, address.key)
    return SubscriberDetail(subscriber_from_row(row), found, suppression)


def unsubscribe(
    engine: sa.Engine, email: str, list_name: str | None = None, clock: Clock = utc_now
) -> list[str]:
    """Unsubscribe from one list, or from all of them; returns the lists that changed."""
    address = require_address(email)
    with write_transaction(engine) as connection:
        return unsubscribe_in(connection, address, list_name, clock())


def unsubscribe_in(
    connection: sa.Connection, address: Address, list_name: str | None, now: datetime
) -> list[str]:
    """``unsubscribe`` inside the caller's write transaction."""
    row = _require_subscriber(connection, address)
    condition = sa.and_(
        memberships.c.subscriber_id == row.id, memberships.c.status != "unsubscribed"
    )
    if list_name is not None:
        mailing_list = find_list(connection, list_name)
        condition = sa.and_(condition, memberships.c.list_id == mailing_list.id)
        on_list = connection.execute(
            sa.select(memberships.c.status).where(
                memberships.c.subscriber_id == row.id,
                memberships.c.list_id == mailing_list.id,
            )
        ).first()
        if on_list is None:
            raise NotFoundError(f"{address.email} is not on the list {list_name!r}")
    changed = (
        connection.execute(
            sa.select(lists.c.name)
            .join(memberships, memberships.c.list_id == lists.c.id)
            .where(condition)
            .order_by(lists.c.name)
        )
        .scalars()
        .all()
    )
    connection.execute(
        sa.update(memberships).where(condition).values(status="unsubscribed", updated_at=now)
    )
    if list_name is None:
        # Leaving everything is a global opt-out: no later list or import may mail them.
        add_suppression(
            connection, address.key, address.email, "unsubscribe", "from all lists", lambda: now
        )
    return list(changed)


def forget_subscriber(engine: sa.Engine, email: str, clock: Clock = utc_now) -> None:
    """Erase a person: their row and memberships go; only a hash stays, in the suppressions."""
    address = require_address(email)
    with write_transaction(engine) as connection:
        forget_in(connection, address, clock())


def forget_in(connection: sa.Connection, address: Address, now: datetime) -> str:
    """``forget_subscriber`` inside the caller's write transaction; the hash that stays."""
    row = _require_subscriber(connection, address)
    # SendGrid's events about them are personal data too: those tied to them, and those
    # kept by address because no subscriber was known when they came.
    connection.execute(sa.delete(events).where(events.c.subscriber_id == row.id))
    connection.execute(sa.delete(events).where(events.c.email_key == address.key))
    connection.execute(sa.delete(subscribers).where(subscribers.c.id == row.id))
    hashed = address_hash(address.key)
    if find_suppression(connection, address.key) is None:
        add_suppression(connection, address.key, None, "manual", "erased on request", lambda: now)
    else:
        connection.execute(
            sa.update(suppressions)
            .where(suppressions.c.address_hash == hashed)
            .values(email=None, email_key=None, detail="erased on request")
        )
    return hashed
