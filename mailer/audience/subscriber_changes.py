"""Changes an admin makes to one subscriber: their name, time zone and attributes, and
bringing back a membership they had left.

The fields follow the rules of an import and ``subscribers add``
(:mod:`mailer.audience.attributes`): a name of at most 200 characters of text, an IANA
time zone, attribute names of letters, digits, ``_ . -`` stored lower-case, ``tags`` a
list. Each refusal is a :class:`~mailer.errors.FieldError` naming the field.

A resubscribe is the one way back onto a list someone left, so it is narrow: only a
membership that is ``unsubscribed`` changes, and a global suppression is lifted with it only
when it records that same wish (reason ``unsubscribe``, written when someone leaves every
list). A bounce, a complaint or a manual suppression is a fact about the address that a
resubscribe must not hide: it is refused until the suppression is lifted on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.audience.addresses import Address, address_hash
from mailer.audience.attributes import (
    TAGS,
    UNSTORABLE,
    AttributeValue,
    InvalidField,
    check_attribute_key,
    check_name,
    check_timezone,
    folded_attributes,
    parse_tags,
)
from mailer.audience.lists import find_list
from mailer.audience.subscribers import Subscriber, subscriber_detail
from mailer.audience.suppressions import find_suppression
from mailer.audience.upsert import initial_status
from mailer.db.tables import memberships, subscribers, suppressions
from mailer.errors import ConflictError, FieldError, NotFoundError

#: The longest attribute value, as the longest CSV cell an import reads.
VALUE_MAX = 65_536
#: The most attributes one change may name (a subscriber's attributes are a few fields).
ATTRIBUTES_MAX = 200


def checked_name(value: str) -> str:
    try:
        return check_name(value)
    except InvalidField as exc:
        raise FieldError("name", str(exc)) from None


def checked_timezone(value: str) -> str | None:
    if UNSTORABLE.search(value):
        raise FieldError("timezone", "holds a character that is not text")
    try:
        return check_timezone(value)
    except InvalidField as exc:
        raise FieldError("timezone", str(exc)) from None


def _checked_value(key: str, value: object) -> AttributeValue:
    """The value as stored; "" or [] when it is empty."""
    if isinstance(value, list):
        if key != TAGS:
            raise FieldError("attributes", f"{key!r}: only 'tags' holds a list; give text")
        if not all(isinstance(item, str) for item in value):
            raise FieldError("attributes", f"{key!r}: give a list of text")
        text = ";".join(item.replace(";", ",") for item in value)
    elif isinstance(value, str):
        text = value
    else:
        raise FieldError("attributes", f"{key!r}: give text (or a list of text for tags)")
    if UNSTORABLE.search(text):
        raise FieldError("attributes", f"{key!r}: holds a character that is not text")
    if len(text) > VALUE_MAX:
        raise FieldError("attributes", f"{key!r}: longer than {VALUE_MAX:,} characters")
    return parse_tags(text) if key == TAGS else text.strip()


def checked_attributes(attributes: Mapping[str, object]) -> dict[str, AttributeValue]:
    """Attributes as stored (names lower-case, ``tags`` a list); an empty value stays empty,
    for the caller to decide what it means. Two names that differ only in case are one
    attribute given twice, which is refused."""
    if len(attributes) > ATTRIBUTES_MAX:
        raise FieldError("attributes", f"at most {ATTRIBUTES_MAX} attributes at once")
    checked: dict[str, AttributeValue] = {}
    for raw_key, value in attributes.items():
        if not isinstance(raw_key, str) or UNSTORABLE.search(raw_key):
            raise FieldError("attributes", "an attribute name holds a character that is not text")
        try:
            key = check_attribute_key(raw_key)
        except InvalidField as exc:
            raise FieldError("attributes", str(exc)) from None
        if key in checked:
            raise FieldError("attributes", f"{raw_key!r} is given twice (names ignore case)")
        checked[key] = _checked_value(key, value)
    return checked


@dataclass(frozen=True)
class SubscriberEdit:
    """What to change; a field left None stays as it is. ``attributes`` are merged into the
    stored ones: each named attribute takes the value given, and an empty value ("" or [])
    removes it."""

    name: str | None = None
    timezone: str | None = None
    attributes: Mapping[str, object] | None = None


def edit_subscriber_in(
    connection: sa.Connection, address: Address, edit: SubscriberEdit, now: datetime
) -> tuple[Subscriber, Subscriber]:
    """The subscriber before and after ``edit``, inside the caller's write transaction
    (NotFoundError if the address is unknown; nothing is written when nothing changes)."""
    name = None if edit.name is None else checked_name(edit.name)
    timezone = None if edit.timezone is None else checked_timezone(edit.timezone)
    given = None if edit.attributes is None else checked_attributes(edit.attributes)
    before = subscriber_detail(connection, address).subscriber
    attributes = folded_attributes(before.attributes)
    for key, value in (given or {}).items():
        if value:
            attributes[key] = value
        else:
            attributes.pop(key, None)
    changes: dict[str, object] = {}
    if name is not None and name != before.name:
        changes["name"] = name
    if edit.timezone is not None and timezone != before.timezone:
        changes["timezone"] = timezone
    if attributes != before.attributes:
        changes["attributes"] = attributes
    if not changes:
        return before, before
    connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == before.id)
        .values(**changes, updated_at=now)
    )
    return before, subscriber_detail(connection, address).subscriber


@dataclass(frozen=True)
class Resubscribed:
    list_name: str
    subscriber_id: int
    status: str
    """``confirmed``, or ``unconfirmed`` on a double opt-in list nobody vouched for."""
    lifted_suppression: bool
    """Whether a suppression for leaving every list was lifted with it."""


def resubscribe_in(
    connection: sa.Connection,
    address: Address,
    list_name: str,
    *,
    confirmed: bool,
    now: datetime,
) -> Resubscribed:
    """Bring back a membership the person had left, inside the caller's write transaction.

    The membership becomes ``confirmed``, or ``unconfirmed`` on a double opt-in list unless
    ``confirmed`` (the caller vouches they agreed again), as an ``add`` would make it. A
    suppression for leaving every list is lifted; any other suppression refuses it
    (ConflictError naming the reason), as does a membership that is not unsubscribed."""
    detail = subscriber_detail(connection, address)
    mailing_list = find_list(connection, list_name)
    membership = next((m for m in detail.memberships if m.list_name == list_name), None)
    if membership is None:
        raise NotFoundError(
            f"{address.email} is not on the list {list_name!r}: add them to it instead"
        )
    if membership.status != "unsubscribed":
        raise ConflictError(
            f"{address.email} is {membership.status} on the list {list_name!r} already"
        )
    suppression = find_suppression(connection, address.key)
    if suppression is not None and suppression.reason != "unsubscribe":
        said = f" ({suppression.detail})" if suppression.detail else ""
        raise ConflictError(
            f"{address.email} is suppressed for {suppression.reason!r}{said}; lift the "
            "suppression first, then resubscribe them"
        )
    if suppression is not None:
        connection.execute(
            sa.delete(suppressions).where(
                suppressions.c.address_hash == address_hash(address.key),
                suppressions.c.reason == "unsubscribe",
            )
        )
    status = initial_status(mailing_list, confirmed)
    subscriber_id = detail.subscriber.id
    connection.execute(
        sa.update(memberships)
        .where(
            memberships.c.list_id == mailing_list.id,
            memberships.c.subscriber_id == subscriber_id,
            memberships.c.status == "unsubscribed",
        )
        .values(status=status, updated_at=now)
    )
    return Resubscribed(list_name, subscriber_id, status, suppression is not None)
