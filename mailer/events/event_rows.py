"""The events table's INSERT for a POST's events, given to the database driver directly.

Through SQLAlchemy Core each row's parameters are built and processed one by one, which took
more time than SQLite took to store them. Here the rows go in as one multi-row ``INSERT ...
VALUES (...), (...) ON CONFLICT (sg_event_id) DO NOTHING RETURNING id, sg_event_id`` per
``ROWS_PER_STATEMENT`` rows: the statement Core sent (its "insertmanyvalues"), with the same
values. The only value a column type changed on its way to the database is ``extra``: JSON
text here as there (``null`` for a known event, as Core wrote Python's None), cast to jsonb
on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from mailer.db.tables import events


class EventRow(NamedTuple):
    """An events row's values, in the order of its columns here."""

    sg_event_id: str
    kind: str
    occurred_at: int
    campaign_id: int | None
    subscriber_id: int | None
    batch_id: int | None
    email_key: str | None
    reason: str | None
    status: str | None
    bounce_type: str | None
    classification: str | None
    url_id: int | None
    machine: bool | None
    asm_group_id: int | None
    extra: dict[str, Any] | None
    """As read (None for a known event); stored as JSON."""


COLUMNS = EventRow._fields
# 15 columns x 1,000 rows: under the parameters a statement may bind on SQLite (32,766) and
# PostgreSQL (65,535).
ROWS_PER_STATEMENT = 1000


def insert_new(connection: sa.Connection, rows: Sequence[EventRow]) -> dict[str, int]:
    """Insert ``rows`` (in their order) where their sg_event_id is not stored yet; the new
    ones' ids by sg_event_id."""
    postgresql = connection.dialect.name == "postgresql"
    mark = "%s" if postgresql else "?"
    json_mark = "CAST(%s AS jsonb)" if postgresql else "?"
    one_row = "(" + ", ".join([mark] * (len(COLUMNS) - 1) + [json_mark]) + ")"
    head = f"INSERT INTO {events.name} ({', '.join(COLUMNS)}) VALUES "
    tail = " ON CONFLICT (sg_event_id) DO NOTHING RETURNING id, sg_event_id"
    new: dict[str, int] = {}
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        values: list[Any] = []
        for row in chunk:
            values.extend(row[:-1])
            values.append(orjson.dumps(row[-1]).decode())
        statement = head + ", ".join([one_row] * len(chunk)) + tail
        for event_id, sg_event_id in connection.exec_driver_sql(statement, tuple(values)):
            new[sg_event_id] = int(event_id)
    return new
