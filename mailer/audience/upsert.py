"""Apply a batch of incoming subscribers to one list: the rules every way in shares.

The rules: an address is one subscriber however it is capitalised; empty incoming fields leave
stored ones alone; attributes are merged; a suppressed address, or one that unsubscribed from
this list, is never (re)subscribed. Each incoming row gets an outcome, so imports can report
every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from mailer.audience.addresses import Address, address_hash
from mailer.audience.attributes import AttributeValue
from mailer.audience.lists import MailingList
from mailer.audience.suppressions import suppressed_hashes
from mailer.db.bulk import bulk_insert, reserve_ids
from mailer.db.tables import memberships, subscribers

SUBSCRIBER_COLUMNS = (
    "email",
    "email_key",
    "name",
    "timezone",
    "attributes",
    "created_at",
    "updated_at",
)
MEMBERSHIP_COLUMNS = ("list_id", "subscriber_id", "status", "source", "created_at", "updated_at")


class Outcome(StrEnum):
    IMPORTED = "imported"  # joined the list (a new subscriber, or a known one new to the list)
    UPDATED = "updated"  # already on the list; their data or confirmation changed
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"  # globally suppressed: skipped
    UNSUBSCRIBED = "unsubscribed"  # left this list before: never resubscribed by an import


@dataclass
class IncomingSubscriber:
    address: Address
    name: str = ""
    timezone: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class RowOutcome:
    row: IncomingSubscriber
    outcome: Outcome
    detail: str = ""


def initial_status(mailing_list: MailingList, confirmed: bool) -> str:
    """Double opt-in lists start people unconfirmed unless the admin vouches for them."""
    return "confirmed" if confirmed or not mailing_list.double_opt_in else "unconfirmed"


def _merge(into: IncomingSubscriber, row: IncomingSubscriber) -> bool:
    """Fold a later duplicate into the first; True if it changed anything."""
    before = (into.name, into.timezone, dict(into.attributes))
    into.name = row.name or into.name
    into.timezone = row.timezone or into.timezone
    into.attributes.update(row.attributes)
    return (into.name, into.timezone, into.attributes) != before


@dataclass
class _Plan:
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    joins: list[IncomingSubscriber] = field(default_factory=list)
    confirms: list[int] = field(default_factory=list)


def apply_batch(
    connection: sa.Connection,
    mailing_list: MailingList,
    rows: list[IncomingSubscriber],
    *,
    confirmed: bool,
    source: str,
    now: datetime,
) -> list[RowOutcome]:
    """Write the batch inside the caller's transaction; one outcome per row, in order."""
    merged: dict[str, IncomingSubscriber] = {}
    later: list[tuple[int, bool]] = []  # (row index, changed) for repeats within the batch
    for index, row in enumerate(rows):
        first = merged.get(row.address.key)
        if first is None:
            merged[row.address.key] = IncomingSubscriber(
                row.address, row.name, row.timezone, dict(row.attributes), row.line
            )
        else:
            later.append((index, _merge(first, row)))

    hashes = {key: address_hash(key) for key in merged}
    suppressed = suppressed_hashes(connection, hashes.values())
    existing = {
        record.email_key: record
        for record in connection.execute(
            sa.select(
                subscribers.c.id,
                subscribers.c.email_key,
                subscribers.c.name,
                subscribers.c.timezone,
                subscribers.c.attributes,
                memberships.c.status,
            )
            .select_from(subscribers)
            .outerjoin(
                memberships,
                sa.and_(
                    memberships.c.subscriber_id == subscribers.c.id,
                    memberships.c.list_id == mailing_list.id,
                ),
            )
            .where(subscribers.c.email_key.in_(list(merged)))
        )
    }

    status = initial_status(mailing_list, confirmed)
    plan = _Plan()
    by_key: dict[str, tuple[Outcome, str]] = {}
    for key, row in merged.items():
        reason = suppressed.get(hashes[key])
        record = existing.get(key)
        if reason is not None:
            by_key[key] = (Outcome.SUPPRESSED, reason)
        elif record is None:
            plan.inserts.append(_subscriber_values(row, now))
            plan.joins.append(row)
            by_key[key] = (Outcome.IMPORTED, "")
        elif record.status == "unsubscribed":
            by_key[key] = (Outcome.UNSUBSCRIBED, "")
        else:
            by_key[key] = _plan_existing(plan, record, row, status, now)

    ids = {record.email_key: int(record.id) for record in existing.values()}
    new_ids = reserve_ids(connection, subscribers, len(plan.inserts))
    bulk_insert(
        connection,
        subscribers,
        ("id", *SUBSCRIBER_COLUMNS),
        [(sid, *values) for sid, values in zip(new_ids, plan.inserts, strict=True)],
    )
    ids.update((values[1], sid) for sid, values in zip(new_ids, plan.inserts, strict=True))
    if plan.updates:
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == sa.bindparam("sid"))
            .values(
                name=sa.bindparam("new_name"),
                timezone=sa.bindparam("new_timezone"),
                attributes=sa.bindparam("new_attributes", type_=subscribers.c.attributes.type),
                updated_at=sa.bindparam("now", type_=subscribers.c.updated_at.type),
            ),
            plan.updates,
        )
    bulk_insert(
        connection,
        memberships,
        MEMBERSHIP_COLUMNS,
        [(mailing_list.id, ids[row.address.key], status, source, now, now) for row in plan.joins],
    )
    if plan.confirms:
        connection.execute(
            sa.update(memberships)
            .where(
                memberships.c.list_id == mailing_list.id,
                memberships.c.subscriber_id.in_(plan.confirms),
                memberships.c.status == "unconfirmed",
            )
            .values(status="confirmed", updated_at=now)
        )

    outcomes = [RowOutcome(row, *by_key[row.address.key]) for row in rows]
    for index, changed in later:
        first_outcome = outcomes[index].outcome
        if first_outcome in (Outcome.IMPORTED, Outcome.UPDATED, Outcome.UNCHANGED):
            outcomes[index] = RowOutcome(
                rows[index], Outcome.UPDATED if changed else Outcome.UNCHANGED, "repeated"
            )
    return outcomes


def _subscriber_values(row: IncomingSubscriber, now: datetime) -> tuple[Any, ...]:
    address = row.address
    return (address.email, address.key, row.name, row.timezone, row.attributes, now, now)


def _plan_existing(
    plan: _Plan, record: Any, row: IncomingSubscriber, status: str, now: datetime
) -> tuple[Outcome, str]:
    name = row.name or record.name
    timezone = row.timezone or record.timezone
    attributes = {**(record.attributes or {}), **row.attributes}
    changed = (name, timezone, attributes) != (record.name, record.timezone, record.attributes)
    if changed:
        plan.updates.append(
            {
                "sid": record.id,
                "new_name": name,
                "new_timezone": timezone,
                "new_attributes": attributes,
                "now": now,
            }
        )
    if record.status is None:
        plan.joins.append(row)
        return Outcome.IMPORTED, ""
    if record.status == "unconfirmed" and status == "confirmed":
        plan.confirms.append(int(record.id))
        return Outcome.UPDATED, "confirmed"
    return (Outcome.UPDATED if changed else Outcome.UNCHANGED), ""
