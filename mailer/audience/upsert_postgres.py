"""Batch lookups and inserts on PostgreSQL: COPY into a staging table, then set-based SQL.

Several processes on several hosts may write at once here, so new ids come from the insert
itself, and a unique-key clash with a concurrent writer is retried by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mailer.audience.batch_parts import KnownRow, add_members
from mailer.audience.lists import MailingList
from mailer.audience.staged import StagedColumns
from mailer.db.bulk import load_rows
from mailer.db.tables import memberships, subscribers, suppressions
from mailer.db.types import UtcDateTime

STAGING_TABLE = "import_rows"
_STAGED = ("position", "key", "email", "address_hash", "name", "timezone", "attributes")
_STAGING_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} ("
    "position INTEGER NOT NULL, key VARCHAR(320) NOT NULL, email VARCHAR(320) NOT NULL, "
    "address_hash VARCHAR(64) NOT NULL, name VARCHAR(200) NOT NULL, timezone VARCHAR(64), "
    "attributes TEXT NOT NULL) ON COMMIT DELETE ROWS"
)
staged = sa.table(STAGING_TABLE, *(sa.column(name) for name in _STAGED))


def _stage(connection: sa.Connection, columns: StagedColumns) -> None:
    connection.exec_driver_sql(_STAGING_DDL)
    rows = zip(
        range(len(columns.keys)), columns.keys, columns.emails, columns.hashes, columns.names,
        columns.timezones, columns.attributes, strict=True,
    )  # fmt: skip
    load_rows(connection, STAGING_TABLE, _STAGED, rows)
    # A temporary table has no statistics until analyzed.
    connection.exec_driver_sql(f"ANALYZE {STAGING_TABLE}")
    # The subscribers table grows faster than autovacuum refreshes its statistics, and with
    # stale ones the planner hash-joins a batch against every subscriber: cost that grows with
    # the table. A batch is small, so index probes are always right here.
    connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")


def known_rows(
    connection: sa.Connection, list_id: int, columns: StagedColumns
) -> dict[int, KnownRow]:
    """Stage the batch; positions whose address is stored or suppressed, with what is stored."""
    _stage(connection, columns)
    query = (
        sa.select(
            staged.c.position,
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
    return {
        position: KnownRow(subscriber_id, name or "", timezone, attributes, status, reason)
        for position, subscriber_id, name, timezone, attributes, status, reason
        in connection.execute(query)
    }  # fmt: skip


def insert_new(
    connection: sa.Connection,
    mailing_list: MailingList,
    columns: StagedColumns,
    known: Iterable[int],
    *,
    status: str,
    source: str,
    now: datetime,
) -> None:
    """Store every staged address but the ``known`` positions and put them on the list."""
    skipped = sorted(known)
    if skipped:
        listed = sa.bindparam("skipped", skipped, type_=postgresql.ARRAY(sa.Integer))
        connection.execute(sa.delete(staged).where(staged.c.position == sa.any_(listed)))
    stamp = sa.bindparam("now", now, type_=UtcDateTime)
    values: list[sa.ColumnElement[Any]] = [
        staged.c.email, staged.c.key, staged.c.name, staged.c.timezone,
        sa.cast(staged.c.attributes, postgresql.JSONB), stamp, stamp,
    ]  # fmt: skip
    # One statement: the new ids come straight from the insert (a data-modifying CTE), so no
    # join back through the address index, whose statistics lag during an import.
    inserted = (
        sa.insert(subscribers)
        .from_select(
            ["email", "email_key", "name", "timezone", "attributes", "created_at", "updated_at"],
            sa.select(*values),
        )
        .returning(subscribers.c.id)
        .cte("inserted")
    )
    add_members(
        connection, mailing_list.id, inserted.c.id, None, status=status, source=source, now=now
    )
