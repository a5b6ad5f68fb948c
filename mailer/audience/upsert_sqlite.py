"""Batch lookups and inserts on SQLite, at driver speed.

The batch's addresses go to SQLite as one JSON array, which ``json_each`` turns into a table
to join against the address index: one statement finds every stored address of the batch.
The new ones are inserted with the driver's executemany (a C loop) and no staging table, and
their memberships with one INSERT ... SELECT over the new id range: SQLite has a single
writer, so nobody else adds subscribers while this transaction holds the write lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import compress, repeat
from typing import Any

import orjson
import sqlalchemy as sa

from mailer.audience.batch_parts import KnownRow, add_members
from mailer.audience.lists import MailingList
from mailer.audience.staged import StagedColumns
from mailer.db.tables import subscribers
from mailer.db.types import UtcDateTime

_KNOWN_SUBSCRIBERS = """
SELECT batch.key, s.id, s.name, s.timezone, s.attributes, m.status
FROM json_each(?) AS batch
JOIN subscribers AS s ON s.email_key = batch.value
LEFT JOIN memberships AS m ON m.subscriber_id = s.id AND m.list_id = ?
"""
_SUPPRESSED = """
SELECT batch.key, p.reason
FROM json_each(?) AS batch
JOIN suppressions AS p ON p.address_hash = batch.value
"""
_INSERT_SUBSCRIBERS = (
    "INSERT INTO subscribers (email_key, email, name, timezone, attributes, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
)


def _driver_cursor(connection: sa.Connection) -> Any:
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    return driver_connection.cursor()


def known_rows(
    connection: sa.Connection, list_id: int, columns: StagedColumns
) -> dict[int, KnownRow]:
    """Positions of the batch whose address is stored or suppressed, with what is stored."""
    cursor = _driver_cursor(connection)
    try:
        known: dict[int, KnownRow] = {}
        cursor.execute(_KNOWN_SUBSCRIBERS, (orjson.dumps(columns.keys).decode(), list_id))
        for position, subscriber_id, name, timezone, attributes, status in cursor:
            known[position] = KnownRow(
                subscriber_id, name, timezone, orjson.loads(attributes), status, None
            )
        cursor.execute(_SUPPRESSED, (orjson.dumps(columns.hashes).decode(),))
        for position, reason in cursor:
            stored = known.get(position)
            known[position] = (
                stored._replace(reason=reason)
                if stored
                else KnownRow(None, "", None, None, None, reason)
            )
        return known
    finally:
        cursor.close()


def _stamp(connection: sa.Connection, now: datetime) -> str:
    """``now`` as SQLAlchemy stores it in SQLite, so rows written here read back the same."""
    dialect = connection.dialect
    naive = UtcDateTime().process_bind_param(now, dialect)
    text = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)(naive)  # type: ignore[misc]
    assert isinstance(text, str)
    return text


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
    """Store every address of the batch but the ``known`` positions and put them on the list."""
    rows: Iterable[tuple[Any, ...]] = zip(
        columns.keys, columns.emails, columns.names, columns.timezones, columns.attributes,
        repeat(_stamp(connection, now)), strict=False,
    )  # fmt: skip
    skipped = set(known)
    if skipped:
        rows = compress(rows, [position not in skipped for position in range(len(columns.keys))])
    highest = connection.execute(sa.select(sa.func.max(subscribers.c.id))).scalar() or 0
    cursor = _driver_cursor(connection)
    try:
        cursor.executemany(_INSERT_SUBSCRIBERS, rows)
    finally:
        cursor.close()
    add_members(
        connection, mailing_list.id, subscribers.c.id, subscribers.c.id > highest,
        status=status, source=source, now=now,
    )  # fmt: skip
