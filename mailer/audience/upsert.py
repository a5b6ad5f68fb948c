"""Apply a batch of incoming subscribers to one list: the rules every way in shares.

The rules: an address is one subscriber however it is capitalised; empty incoming fields leave
stored ones alone; attributes are merged; a suppressed address, or one that unsubscribed from
this list, is never (re)subscribed. Each incoming row gets an outcome, so imports can report
every one of them.

Each database looks the batch up and inserts its new addresses in a few set-based statements
(:mod:`mailer.audience.upsert_sqlite`, :mod:`mailer.audience.upsert_postgres`), so the database
does the per-row work; only addresses it already knows come back to Python, for the rules here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
import sqlalchemy as sa

from mailer.audience import upsert_postgres, upsert_sqlite
from mailer.audience.batch_parts import KnownRow
from mailer.audience.lists import MailingList
from mailer.audience.staged import BatchBuilder, IncomingSubscriber, StagedBatch
from mailer.db.tables import memberships, subscribers
from mailer.db.types import UtcDateTime


class Outcome(StrEnum):
    IMPORTED = "imported"  # joined the list (a new subscriber, or a known one new to the list)
    UPDATED = "updated"  # already on the list; their data or confirmation changed
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"  # globally suppressed: skipped
    UNSUBSCRIBED = "unsubscribed"  # left this list before: never resubscribed by an import


@dataclass(frozen=True)
class RowOutcome:
    email: str
    line: int
    outcome: Outcome
    detail: str = ""


@dataclass
class BatchResult:
    counts: Counter[Outcome] = field(default_factory=Counter)
    exceptions: list[RowOutcome] = field(default_factory=list)
    """Rows with any outcome but "imported", in no particular order."""


def initial_status(mailing_list: MailingList, confirmed: bool) -> str:
    """Double opt-in lists start people unconfirmed unless the admin vouches for them."""
    return "confirmed" if confirmed or not mailing_list.double_opt_in else "unconfirmed"


@dataclass
class _Plan:
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirms: list[int] = field(default_factory=list)
    joins: list[int] = field(default_factory=list)
    """Known subscribers who are not on the list yet."""


def _plan_known(plan: _Plan, record: KnownRow, incoming: tuple[str, str | None, str],
                status: str, now: datetime) -> tuple[Outcome, str]:  # fmt: skip
    """What to do with an address the database knows; ``incoming`` is (name, timezone,
    attributes JSON) from the batch."""
    if record.reason is not None:
        return Outcome.SUPPRESSED, str(record.reason)
    if record.status == "unsubscribed":
        return Outcome.UNSUBSCRIBED, ""
    assert record.subscriber_id is not None
    new_name, new_timezone, new_attributes = incoming
    name = new_name or record.name
    timezone = new_timezone or record.timezone
    attributes = {**(record.attributes or {}), **orjson.loads(new_attributes)}
    changed = (name, timezone, attributes) != (record.name, record.timezone, record.attributes)
    if changed:
        plan.updates.append(
            {"sid": record.subscriber_id, "new_name": name, "new_timezone": timezone,
             "new_attributes": attributes, "now": now}
        )  # fmt: skip
    if record.status is None:
        plan.joins.append(record.subscriber_id)
        return Outcome.IMPORTED, ""  # known subscriber, new to this list
    if record.status == "unconfirmed" and status == "confirmed":
        plan.confirms.append(record.subscriber_id)
        return Outcome.UPDATED, "confirmed"
    return (Outcome.UPDATED if changed else Outcome.UNCHANGED), ""


def _apply_plan(connection: sa.Connection, list_id: int, plan: _Plan, status: str,
                source: str, now: datetime) -> None:  # fmt: skip
    if plan.joins:
        connection.execute(
            sa.insert(memberships),
            [
                {"list_id": list_id, "subscriber_id": subscriber_id, "status": status,
                 "source": source, "created_at": now, "updated_at": now}
                for subscriber_id in plan.joins
            ],
        )  # fmt: skip
    if plan.updates:
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == sa.bindparam("sid"))
            .values(
                name=sa.bindparam("new_name"),
                timezone=sa.bindparam("new_timezone"),
                attributes=sa.bindparam("new_attributes", type_=subscribers.c.attributes.type),
                updated_at=sa.bindparam("now", type_=UtcDateTime),
            ),
            plan.updates,
        )
    if plan.confirms:
        connection.execute(
            sa.update(memberships)
            .where(
                memberships.c.list_id == list_id,
                memberships.c.subscriber_id.in_(plan.confirms),
                memberships.c.status == "unconfirmed",
            )
            .values(status="confirmed", updated_at=now)
        )


def apply_staged(
    connection: sa.Connection,
    mailing_list: MailingList,
    batch: StagedBatch,
    *,
    confirmed: bool,
    source: str,
    now: datetime,
) -> BatchResult:
    """Write the batch inside the caller's (write) transaction."""
    result = BatchResult()
    columns = batch.columns
    if not columns.keys:
        return result
    backend = upsert_sqlite if connection.dialect.name == "sqlite" else upsert_postgres
    status = initial_status(mailing_list, confirmed)
    plan = _Plan()
    known_outcomes: dict[str, tuple[Outcome, str]] = {}
    known = backend.known_rows(connection, mailing_list.id, columns)
    for position, record in known.items():
        incoming = (
            columns.names[position],
            columns.timezones[position],
            columns.attributes[position],
        )
        outcome, detail = _plan_known(plan, record, incoming, status, now)
        known_outcomes[columns.keys[position]] = (outcome, detail)
        if outcome is not Outcome.IMPORTED:
            email, line = columns.emails[position], columns.lines[position]
            result.exceptions.append(RowOutcome(email, line, outcome, detail))
        result.counts[outcome] += 1
    result.counts[Outcome.IMPORTED] += len(columns.keys) - len(known)
    if len(known) < len(columns.keys):
        backend.insert_new(
            connection, mailing_list, columns, known, status=status, source=source, now=now
        )
    _apply_plan(connection, mailing_list.id, plan, status, source, now)
    for repeat in batch.repeats:
        outcome, detail = known_outcomes.get(repeat.key, (Outcome.IMPORTED, ""))
        if outcome in (Outcome.IMPORTED, Outcome.UPDATED, Outcome.UNCHANGED):
            outcome = Outcome.UPDATED if repeat.changed else Outcome.UNCHANGED
            detail = "repeated"
        result.counts[outcome] += 1
        result.exceptions.append(RowOutcome(repeat.email, repeat.line, outcome, detail))
    return result


def apply_batch(
    connection: sa.Connection,
    mailing_list: MailingList,
    rows: list[IncomingSubscriber],
    *,
    confirmed: bool,
    source: str,
    now: datetime,
) -> list[RowOutcome]:
    """Write a few subscribers (``subscribers add``); one outcome per row, in order."""
    builder = BatchBuilder()
    for line, row in enumerate(rows, start=1):
        row.line = line
        builder.add_incoming(row)
    result = apply_staged(
        connection, mailing_list, builder.take(), confirmed=confirmed, source=source, now=now
    )
    by_line = {outcome.line: outcome for outcome in result.exceptions}
    return [
        by_line.get(line) or RowOutcome(row.address.email, line, Outcome.IMPORTED)
        for line, row in enumerate(rows, start=1)
    ]
