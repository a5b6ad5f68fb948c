"""Apply a batch of incoming subscribers to one list: the rules every way in shares.

The rules: an address is one subscriber however it is capitalised; empty incoming fields leave
stored ones alone; attributes are merged; a suppressed address, or one that unsubscribed from
this list, is never (re)subscribed. Each incoming row gets an outcome, so imports can report
every one of them.

The batch is loaded into a temporary staging table and applied with a few set-based statements,
so the database does the per-row work; only addresses it already knows come back to Python.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mailer.audience.lists import MailingList
from mailer.audience.staged import (
    STAGED_COLUMNS,
    BatchBuilder,
    IncomingSubscriber,
    StagedBatch,
    StagedRow,
)
from mailer.db.bulk import load_rows
from mailer.db.tables import memberships, subscribers, suppressions
from mailer.db.types import UtcDateTime

STAGING_TABLE = "import_rows"
_STAGING_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} ("
    "key VARCHAR(320) NOT NULL, email VARCHAR(320) NOT NULL, address_hash VARCHAR(64) NOT NULL, "
    "name VARCHAR(200) NOT NULL, timezone VARCHAR(64), attributes TEXT NOT NULL, "
    "line INTEGER NOT NULL)"
)
staged = sa.table(STAGING_TABLE, *(sa.column(name) for name in STAGED_COLUMNS))


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


def _stage(connection: sa.Connection, rows: list[StagedRow]) -> None:
    connection.exec_driver_sql(_STAGING_DDL)
    connection.exec_driver_sql(f"DELETE FROM {STAGING_TABLE}")
    load_rows(connection, STAGING_TABLE, STAGED_COLUMNS, rows)
    if connection.dialect.name == "postgresql":
        # A temporary table has no statistics until analyzed.
        connection.exec_driver_sql(f"ANALYZE {STAGING_TABLE}")
        # The subscribers table grows faster than autovacuum refreshes its statistics, and
        # with stale ones the planner hash-joins a batch against every subscriber: cost that
        # grows with the table. A batch is small, so index probes are always right here.
        connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
        connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")


def _known_rows(connection: sa.Connection, list_id: int) -> sa.CursorResult[Any]:
    """Staged rows whose address is already stored or suppressed, with what is stored."""
    query = (
        sa.select(
            staged.c.key,
            staged.c.email,
            staged.c.line,
            staged.c.name.label("new_name"),
            staged.c.timezone.label("new_timezone"),
            staged.c.attributes.label("new_attributes"),
            subscribers.c.id,
            subscribers.c.name,
            subscribers.c.timezone,
            subscribers.c.attributes,
            memberships.c.status,
            suppressions.c.reason,
        )
        .select_from(staged)
        .outerjoin(subscribers, subscribers.c.email_key == staged.c.key)
        .outerjoin(
            memberships,
            sa.and_(
                memberships.c.subscriber_id == subscribers.c.id,
                memberships.c.list_id == list_id,
            ),
        )
        .outerjoin(suppressions, suppressions.c.address_hash == staged.c.address_hash)
        .where(sa.or_(subscribers.c.id.is_not(None), suppressions.c.reason.is_not(None)))
    )
    return connection.execute(query)


@dataclass
class _Plan:
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirms: list[int] = field(default_factory=list)
    joins: list[int] = field(default_factory=list)
    """Known subscribers who are not on the list yet."""


def _plan_known(plan: _Plan, record: Any, status: str, now: datetime) -> tuple[Outcome, str]:
    if record.reason is not None:
        return Outcome.SUPPRESSED, str(record.reason)
    if record.status == "unsubscribed":
        return Outcome.UNSUBSCRIBED, ""
    name = record.new_name or record.name
    timezone = record.new_timezone or record.timezone
    attributes = {**(record.attributes or {}), **orjson.loads(record.new_attributes)}
    changed = (name, timezone, attributes) != (record.name, record.timezone, record.attributes)
    if changed:
        plan.updates.append(
            {"sid": record.id, "new_name": name, "new_timezone": timezone,
             "new_attributes": attributes, "now": now}
        )  # fmt: skip
    if record.status is None:
        plan.joins.append(int(record.id))
        return Outcome.IMPORTED, ""  # known subscriber, new to this list
    if record.status == "unconfirmed" and status == "confirmed":
        plan.confirms.append(int(record.id))
        return Outcome.UPDATED, "confirmed"
    return (Outcome.UPDATED if changed else Outcome.UNCHANGED), ""


def _drop_known(connection: sa.Connection) -> None:
    """Leave only brand-new addresses staged (the known ones were handled from _known_rows)."""
    connection.execute(
        sa.delete(staged).where(
            sa.or_(
                sa.exists().where(subscribers.c.email_key == staged.c.key),
                sa.exists().where(suppressions.c.address_hash == staged.c.address_hash),
            )
        )
    )


def _insert_new(connection: sa.Connection, mailing_list: MailingList, status: str,
                source: str, now: datetime) -> None:  # fmt: skip
    """Every staged address is new: store it and put it on the list."""
    stamp = sa.bindparam("now", now, type_=UtcDateTime)
    columns = ["email", "email_key", "name", "timezone", "attributes", "created_at", "updated_at"]
    values: list[sa.ColumnElement[Any]] = [
        staged.c.email, staged.c.key, staged.c.name, staged.c.timezone, staged.c.attributes,
        stamp, stamp,
    ]  # fmt: skip
    member_columns = ["list_id", "subscriber_id", "status", "source", "created_at", "updated_at"]
    fixed = [sa.literal(status), sa.literal(source), stamp, stamp]
    if connection.dialect.name == "sqlite":
        # Under SQLite's write lock nobody else adds subscribers, so the ids can be chosen
        # here (highest id + staging row number): memberships then need no lookup by address.
        highest = connection.execute(sa.select(sa.func.max(subscribers.c.id))).scalar() or 0
        new_id = sa.literal(highest) + sa.literal_column("rowid")
        connection.execute(
            sa.insert(subscribers).from_select(["id", *columns], sa.select(new_id, *values))
        )
        joining = sa.select(sa.literal(mailing_list.id), new_id, *fixed).select_from(staged)
    else:
        # One statement: the new ids come straight from the insert (a data-modifying CTE),
        # so no join back through the address index, whose statistics lag during an import.
        values[4] = sa.cast(staged.c.attributes, postgresql.JSONB)
        inserted = (
            sa.insert(subscribers)
            .from_select(columns, sa.select(*values))
            .returning(subscribers.c.id)
            .cte("inserted")
        )
        joining = sa.select(sa.literal(mailing_list.id), inserted.c.id, *fixed)
    connection.execute(sa.insert(memberships).from_select(member_columns, joining))


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
    if not batch.rows:
        return result
    status = initial_status(mailing_list, confirmed)
    _stage(connection, batch.rows)
    plan = _Plan()
    known: dict[str, tuple[Outcome, str]] = {}
    for record in _known_rows(connection, mailing_list.id):
        outcome, detail = _plan_known(plan, record, status, now)
        known[record.key] = (outcome, detail)
        if outcome is not Outcome.IMPORTED:
            result.exceptions.append(RowOutcome(record.email, record.line, outcome, detail))
        result.counts[outcome] += 1
    result.counts[Outcome.IMPORTED] += len(batch.rows) - len(known)
    if known:
        _drop_known(connection)
    if len(known) < len(batch.rows):
        _insert_new(connection, mailing_list, status, source, now)
    _apply_plan(connection, mailing_list.id, plan, status, source, now)
    for repeat in batch.repeats:
        outcome, detail = known.get(repeat.key, (Outcome.IMPORTED, ""))
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
