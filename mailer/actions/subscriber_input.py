"""What the subscriber actions take from outside, checked: an address (the ``email``
field), a list named in a field, a reason, and a new subscriber's fields with the rules of
an import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from mailer.audience.addresses import Address, InvalidAddress, normalize_address
from mailer.audience.attributes import UNSTORABLE, AttributeValue
from mailer.audience.lists import MailingList, find_list
from mailer.audience.staged import IncomingSubscriber
from mailer.audience.subscriber_changes import (
    checked_attributes,
    checked_name,
    checked_timezone,
)
from mailer.errors import FieldError, NotFoundError

#: The longest reason kept for an unsubscribe or a resubscribe.
REASON_MAX = 500


@dataclass(frozen=True)
class NewSubscriber:
    """One subscriber to add; empty fields leave stored ones alone, as in an import."""

    email: str
    name: str = ""
    timezone: str = ""
    attributes: Mapping[str, AttributeValue] | None = None


def checked_address(email: str) -> Address:
    if UNSTORABLE.search(email):
        raise FieldError("email", "holds a character that is not text")
    try:
        return normalize_address(email)
    except InvalidAddress as exc:
        raise FieldError("email", f"not a valid email address: {exc}") from None


def checked_reason(value: str, *, required: bool = False) -> str:
    value = value.strip()
    if UNSTORABLE.search(value):
        raise FieldError("reason", "holds a character that is not text")
    if len(value) > REASON_MAX:
        raise FieldError("reason", f"use at most {REASON_MAX} characters")
    if required and not value:
        raise FieldError("reason", "say why (it goes into the audit log)")
    return value


def named_list(connection: sa.Connection, field_name: str, name: str) -> MailingList:
    """The list, or a FieldError naming the field (and the lists there are)."""
    if UNSTORABLE.search(name) or len(name) > 100:
        raise FieldError(field_name, f"no list named {name!r}")
    try:
        return find_list(connection, name)
    except NotFoundError as exc:
        raise FieldError(field_name, str(exc)) from None


def incoming(row: NewSubscriber) -> IncomingSubscriber:
    """The row checked as an import checks one; empty attributes are left out."""
    attributes = checked_attributes(row.attributes or {})
    return IncomingSubscriber(
        address=checked_address(row.email),
        name=checked_name(row.name),
        timezone=checked_timezone(row.timezone),
        attributes={key: value for key, value in attributes.items() if value},
    )
