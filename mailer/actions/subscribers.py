"""Subscribers on behalf of a principal: search and view them with ``read``; add, edit,
unsubscribe, resubscribe and forget them with ``manage_audience``. Each change writes its
audit entry in the transaction of the change; a change to a membership also goes into the
consent record, naming who made it.

Addresses are refused as the ``email`` field when they are not addresses at all, and an
address nobody has is a NotFoundError. Bulk adds follow the rules of an import: each row is
checked on its own, a bad row is reported (by its index and field) and skipped, and every
good row is added in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.app import Mailer
from mailer.audience.addresses import Address, InvalidAddress, normalize_address
from mailer.audience.attributes import UNSTORABLE, AttributeValue
from mailer.audience.lists import MailingList, find_list
from mailer.audience.staged import IncomingSubscriber
from mailer.audience.subscriber_changes import (
    SubscriberEdit,
    checked_attributes,
    checked_name,
    checked_timezone,
    edit_subscriber_in,
    resubscribe_in,
)
from mailer.audience.subscriber_history import History, subscriber_history
from mailer.audience.subscriber_search import SearchPage, search_subscribers
from mailer.audience.subscribers import (
    SubscriberDetail,
    forget_in,
    subscriber_detail,
    unsubscribe_in,
)
from mailer.audience.upsert import Outcome, apply_batch
from mailer.db.engine import write_transaction
from mailer.db.tables import audit_log
from mailer.errors import ConflictError, FieldError, NotFoundError
from mailer.services.consent import Origin, record

#: The most rows one bulk add takes.
BULK_MAX = 1000
#: The longest reason kept for an unsubscribe or a resubscribe.
REASON_MAX = 500
# Outcomes that leave an address off the list.
_REFUSED = (Outcome.SUPPRESSED, Outcome.UNSUBSCRIBED)


@dataclass(frozen=True)
class SubscriberView:
    """One subscriber as a page or the API shows them: their fields, memberships and
    suppression, and what was sent to them and what became of it."""

    detail: SubscriberDetail
    history: History

    def as_json(self) -> dict[str, object]:
        return {**self.detail.as_json(), **self.history.as_json()}


@dataclass(frozen=True)
class NewSubscriber:
    """One row of a bulk add; empty fields leave stored ones alone, as in an import."""

    email: str
    name: str = ""
    timezone: str = ""
    attributes: Mapping[str, AttributeValue] | None = None


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row of a bulk add: ``imported``, ``updated``, ``unchanged``,
    ``suppressed``, ``unsubscribed`` (both left off the list), or ``rejected``, with the
    ``field`` that was wrong."""

    index: int
    """The row's position in the request, from 0."""
    email: str
    outcome: str
    field: str | None = None
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "email": self.email,
            "outcome": self.outcome,
            "field": self.field,
            "detail": self.detail,
        }


def _address(email: str) -> Address:
    if UNSTORABLE.search(email):
        raise FieldError("email", "holds a character that is not text")
    try:
        return normalize_address(email)
    except InvalidAddress as exc:
        raise FieldError("email", f"not a valid email address: {exc}") from None


def _text(field_name: str, value: str, *, required: bool = False) -> str:
    value = value.strip()
    if UNSTORABLE.search(value):
        raise FieldError(field_name, "holds a character that is not text")
    if len(value) > REASON_MAX:
        raise FieldError(field_name, f"use at most {REASON_MAX} characters")
    if required and not value:
        raise FieldError(field_name, "say why (it goes into the audit log)")
    return value


def _list(connection: sa.Connection, field_name: str, name: str) -> MailingList:
    """The list, or a FieldError naming the field (and the lists there are)."""
    if UNSTORABLE.search(name) or len(name) > 100:
        raise FieldError(field_name, f"no list named {name!r}")
    try:
        return find_list(connection, name)
    except NotFoundError as exc:
        raise FieldError(field_name, str(exc)) from None


def _origin(principal: Principal) -> Origin:
    return Origin(f"admin {principal.actor}"[:100])


def _view(connection: sa.Connection, address: Address) -> SubscriberView:
    detail = subscriber_detail(connection, address)
    return SubscriberView(detail, subscriber_history(connection, detail.subscriber.id))


def search(
    mailer: Mailer,
    principal: Principal,
    *,
    query: str | None,
    list_name: str | None,
    status: str | None,
    segment: str | None,
    after: str | None,
    limit: int,
) -> SearchPage:
    """One page of subscribers by address (see :func:`search_subscribers`); a wrong input is
    a FieldError, a SegmentError saying where, or a NotFoundError for an unknown list."""
    principal.require(Permission.READ)
    return search_subscribers(
        mailer.engine,
        query=query,
        list_name=list_name,
        status=status,
        segment=segment,
        after=after,
        limit=limit,
    )


def subscriber_view(mailer: Mailer, principal: Principal, email: str) -> SubscriberView:
    principal.require(Permission.READ)
    address = _address(email)
    with mailer.engine.connect() as connection:
        return _view(connection, address)


def _incoming(row: NewSubscriber) -> IncomingSubscriber:
    """The row checked as an import checks one; empty attributes are left out."""
    attributes = checked_attributes(row.attributes or {})
    return IncomingSubscriber(
        address=_address(row.email),
        name=checked_name(row.name),
        timezone=checked_timezone(row.timezone),
        attributes={key: value for key, value in attributes.items() if value},
    )


def _refusal(email: str, list_name: str, outcome: Outcome, detail: str) -> ConflictError:
    if outcome is Outcome.SUPPRESSED:
        return ConflictError(
            f"{email} is suppressed for {detail!r}; lift the suppression first to add them"
        )
    return ConflictError(
        f"{email} unsubscribed from the list {list_name!r}; only a resubscribe, with its "
        "reason, brings them back"
    )


def add_subscriber(
    mailer: Mailer,
    principal: Principal,
    email: str,
    *,
    lists: Sequence[str],
    name: str = "",
    timezone: str = "",
    attributes: Mapping[str, AttributeValue] | None = None,
    confirmed: bool = False,
) -> SubscriberView:
    """Add the address to each list (a known one keeps its fields where these are empty).
    On a double opt-in list they start unconfirmed unless ``confirmed``. An address
    suppressed, or unsubscribed from one of the lists, is refused (ConflictError) and
    nothing is written."""
    principal.require(Permission.MANAGE_AUDIENCE)
    incoming = _incoming(NewSubscriber(email, name, timezone, attributes))
    names = list(dict.fromkeys(lists))
    if not names:
        raise FieldError("lists", "choose at least one list")
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        outcomes: dict[str, str] = {}
        for list_name in names:
            mailing_list = _list(connection, "lists", list_name)
            (added,) = apply_batch(
                connection, mailing_list, [incoming], confirmed=confirmed, source="admin", now=now
            )
            if added.outcome in _REFUSED:
                raise _refusal(incoming.address.email, list_name, added.outcome, added.detail)
            outcomes[list_name] = added.outcome.value
        detail = {"lists": outcomes, "confirmed": confirmed}
        target = incoming.address.email
        audit.record(connection, principal.actor, "subscriber.add", target, detail, now)
        return _view(connection, incoming.address)


def add_subscribers_bulk(
    mailer: Mailer,
    principal: Principal,
    rows: Sequence[NewSubscriber],
    *,
    list_name: str,
    confirmed: bool = False,
) -> list[RowOutcome]:
    """Add up to :data:`BULK_MAX` rows to one list with the rules of an import: one outcome
    per row, in order. A row that cannot be stored is ``rejected`` with its field and
    skipped; the others are added in one transaction, with one audit entry counting them."""
    principal.require(Permission.MANAGE_AUDIENCE)
    if not rows:
        raise FieldError("rows", "give at least one row")
    if len(rows) > BULK_MAX:
        raise FieldError("rows", f"at most {BULK_MAX:,} rows at once; split the rest")
    outcomes: dict[int, RowOutcome] = {}
    good: list[tuple[int, IncomingSubscriber]] = []
    for index, row in enumerate(rows):
        try:
            good.append((index, _incoming(row)))
        except FieldError as exc:
            shown = row.email if not UNSTORABLE.search(row.email) else ""
            outcomes[index] = RowOutcome(index, shown[:320], "rejected", exc.field, exc.problem)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        mailing_list = _list(connection, "list", list_name)
        if good:
            written = apply_batch(
                connection,
                mailing_list,
                [incoming for _, incoming in good],
                confirmed=confirmed,
                source="admin",
                now=now,
            )
            for (index, _), done in zip(good, written, strict=True):
                outcomes[index] = RowOutcome(
                    index, done.email, done.outcome.value, None, done.detail
                )
        ordered = [outcomes[index] for index in range(len(rows))]
        counts = Counter(outcome.outcome for outcome in ordered)
        detail = {"rows": len(rows), "confirmed": confirmed, "counts": dict(sorted(counts.items()))}
        audit.record(connection, principal.actor, "subscriber.bulk_add", list_name, detail, now)
    return ordered


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    }


def edit_subscriber(
    mailer: Mailer,
    principal: Principal,
    email: str,
    *,
    name: str | None = None,
    timezone: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> SubscriberView:
    """Change the fields given (None leaves one alone; "" clears a name or time zone).
    ``attributes`` are merged: each takes the value given, and an empty value removes it.
    The audit entry holds each change before and after (none is written for no change)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = _address(email)
    edit = SubscriberEdit(name=name, timezone=timezone, attributes=attributes)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        before, after = edit_subscriber_in(connection, address, edit, now)
        old = {"name": before.name, "timezone": before.timezone}
        new = {"name": after.name, "timezone": after.timezone}
        changed = _changed_fields(old, new)
        changed_attributes = _changed_fields(before.attributes, after.attributes)
        if changed_attributes:
            changed["attributes"] = changed_attributes
        if changed:
            audit.record(connection, principal.actor, "subscriber.edit", after.email, changed, now)
        return _view(connection, address)


def unsubscribe(
    mailer: Mailer, principal: Principal, email: str, *, list_name: str | None, reason: str
) -> list[str]:
    """Unsubscribe the address from one list, or (``list_name`` None) from every list, which
    also suppresses it as ``unsubscribe`` so that no list made later mails them; the lists
    that changed. ``reason`` goes into the audit log."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = _address(email)
    said = _text("reason", reason)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        if list_name is not None:
            _list(connection, "list", list_name)
        subscriber = subscriber_detail(connection, address).subscriber
        changed = unsubscribe_in(connection, address, list_name, now)
        record(
            connection,
            subscriber.id,
            changed,
            "unsubscribe",
            _origin(principal),
            now,
            keep_ip=False,
        )
        detail = {"list": list_name, "changed": changed, "reason": said}
        audit.record(
            connection, principal.actor, "subscriber.unsubscribe", subscriber.email, detail, now
        )
    return changed


def resubscribe(
    mailer: Mailer,
    principal: Principal,
    email: str,
    *,
    list_name: str,
    reason: str,
    confirmed: bool = False,
) -> SubscriberView:
    """Bring back a membership the person had left, saying why (their own request, usually):
    see :func:`~mailer.audience.subscriber_changes.resubscribe_in` for what is refused. On a
    double opt-in list they come back unconfirmed unless ``confirmed``."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = _address(email)
    said = _text("reason", reason, required=True)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        _list(connection, "list", list_name)
        done = resubscribe_in(connection, address, list_name, confirmed=confirmed, now=now)
        origin = _origin(principal)
        record(
            connection, done.subscriber_id, [list_name], "resubscribe", origin, now, keep_ip=False
        )
        detail = {
            "list": list_name,
            "status": done.status,
            "lifted_suppression": done.lifted_suppression,
            "reason": said,
        }
        view = _view(connection, address)
        target = view.detail.subscriber.email
        audit.record(connection, principal.actor, "subscriber.resubscribe", target, detail, now)
        return view


def forget(mailer: Mailer, principal: Principal, email: str) -> None:
    """Erase the person (see :func:`~mailer.audience.subscribers.forget_subscriber`). The
    audit log keeps no trace of the address either: this entry, and every earlier one about
    them, names only the hash the suppression keeps, and the earlier ones lose their detail
    (names, attributes, notes)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = _address(email)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        stored = subscriber_detail(connection, address).subscriber.email
        hashed = forget_in(connection, address, now)
        about_them = sa.or_(
            audit_log.c.target.in_({stored, address.email, address.key}),
            sa.func.lower(audit_log.c.target) == address.key,
        )
        connection.execute(
            sa.update(audit_log).where(about_them).values(target=hashed, detail=None)
        )
        audit.record(connection, principal.actor, "subscriber.forget", hashed, None, now)
