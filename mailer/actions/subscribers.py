"""Subscribers on behalf of a principal: search and view them with ``read``; add, edit,
unsubscribe, resubscribe and forget them with ``manage_audience``. Each change writes its
audit entry in the transaction of the change; a change to a membership also goes into the
consent record, naming who made it.

Addresses are refused as the ``email`` field when they are not addresses at all, and an
address nobody has is a NotFoundError. Bulk adds (:mod:`mailer.actions.subscriber_bulk`,
whose names are also here) follow the rules of an import: each row is checked on its own, a
bad row is reported (by its index and field) and skipped, and every good row is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal

# Bulk adds and their rows live in modules of their own; callers find them here too.
from mailer.actions.subscriber_bulk import BULK_MAX as BULK_MAX
from mailer.actions.subscriber_bulk import RowOutcome as RowOutcome
from mailer.actions.subscriber_bulk import add_subscribers_bulk as add_subscribers_bulk
from mailer.actions.subscriber_confirmations import mail_confirmations
from mailer.actions.subscriber_input import REASON_MAX as REASON_MAX
from mailer.actions.subscriber_input import NewSubscriber as NewSubscriber
from mailer.actions.subscriber_input import (
    checked_address,
    checked_reason,
    incoming,
    named_list,
)
from mailer.app import Mailer
from mailer.audience.addresses import Address
from mailer.audience.attributes import AttributeValue
from mailer.audience.subscriber_changes import (
    SubscriberEdit,
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
from mailer.errors import ConflictError, FieldError
from mailer.services.consent import Origin, record

# Outcomes that leave an address off the list.
_REFUSED = (Outcome.SUPPRESSED, Outcome.UNSUBSCRIBED)


@dataclass(frozen=True)
class SubscriberView:
    """One subscriber as a page or the API shows them: their fields, memberships and
    suppression, and what was sent to them and what became of it."""

    detail: SubscriberDetail
    history: History
    confirmation: str | None = None
    """After an add: ``mailed`` (a link to confirm went out), ``not sent: <why>``, or None
    (no confirmation was due)."""

    def as_json(self) -> dict[str, object]:
        added = {} if self.confirmation is None else {"confirmation": self.confirmation}
        return {**self.detail.as_json(), **self.history.as_json(), **added}


def _consent(
    connection: sa.Connection,
    principal: Principal,
    subscriber_id: int,
    list_names: list[str],
    action: str,
    now: datetime,
) -> None:
    """The consent record of a change an admin made, naming them (no IP: not the person's)."""
    origin = Origin(f"admin {principal.actor}"[:100])
    record(connection, subscriber_id, list_names, action, origin, now, keep_ip=False)


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
    address = checked_address(email)
    with mailer.engine.connect() as connection:
        return _view(connection, address)


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
    On a double opt-in list they start unconfirmed unless ``confirmed``, and are mailed a link
    to confirm (``confirmation`` says whether it went). An address
    suppressed, or unsubscribed from one of the lists, is refused (ConflictError) and
    nothing is written."""
    principal.require(Permission.MANAGE_AUDIENCE)
    new = incoming(NewSubscriber(email, name, timezone, attributes))
    names = list(dict.fromkeys(lists))
    if not names:
        raise FieldError("lists", "choose at least one list")
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        outcomes: dict[str, str] = {}
        for list_name in names:
            mailing_list = named_list(connection, "lists", list_name)
            (added,) = apply_batch(
                connection, mailing_list, [new], confirmed=confirmed, source="admin", now=now
            )
            if added.outcome in _REFUSED:
                raise _refusal(new.address.email, list_name, added.outcome, added.detail)
            outcomes[list_name] = added.outcome.value
        detail = {"lists": outcomes, "confirmed": confirmed}
        target = new.address.email
        audit.record(connection, principal.actor, "subscriber.add", target, detail, now)
        view = _view(connection, new.address)
    # After the commit: the link in the mail must find the membership.
    mailed = mail_confirmations(mailer, names, [view.detail.subscriber.email], confirmed=confirmed)
    return replace(view, confirmation=mailed.of(view.detail.subscriber.email))


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
    address = checked_address(email)
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
    address = checked_address(email)
    said = checked_reason(reason)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        if list_name is not None:
            named_list(connection, "list", list_name)
        subscriber = subscriber_detail(connection, address).subscriber
        changed = unsubscribe_in(connection, address, list_name, now)
        _consent(connection, principal, subscriber.id, changed, "unsubscribe", now)
        detail = {"list": list_name, "changed": changed, "reason": said}
        target = subscriber.email
        audit.record(connection, principal.actor, "subscriber.unsubscribe", target, detail, now)
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
    address = checked_address(email)
    said = checked_reason(reason, required=True)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        named_list(connection, "list", list_name)
        done = resubscribe_in(connection, address, list_name, confirmed=confirmed, now=now)
        _consent(connection, principal, done.subscriber_id, [list_name], "resubscribe", now)
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
    audit log keeps no trace of them either: this entry, and every earlier ``subscriber.*``
    and ``suppression.*`` one about the address, name only the hash the suppression keeps,
    and the earlier ones lose their detail (names, attributes, notes)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = checked_address(email)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        stored = subscriber_detail(connection, address).subscriber.email
        hashed = forget_in(connection, address, now)
        # Entries about them as a subscriber or a suppressed address; an account of the same
        # address (user.*) is someone else's record and stays.
        about_them = sa.and_(
            sa.or_(
                audit_log.c.action.startswith("subscriber."),
                audit_log.c.action.startswith("suppression."),
            ),
            sa.or_(
                audit_log.c.target.in_({stored, address.email, address.key}),
                sa.func.lower(audit_log.c.target) == address.key,
            ),
        )
        connection.execute(
            sa.update(audit_log).where(about_them).values(target=hashed, detail=None)
        )
        audit.record(connection, principal.actor, "subscriber.forget", hashed, None, now)
