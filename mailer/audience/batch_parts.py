"""What the SQLite and PostgreSQL batch writers share: the stored facts they look up for an
incoming address, and the statement that puts new subscribers on the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from mailer.db.tables import memberships
from mailer.db.types import UtcDateTime


class KnownRow(NamedTuple):
    """A stored subscriber with this address (id None if there is none), their membership
    status on the list being written (None if not on it), and the suppression reason if the
    address is suppressed."""

    subscriber_id: int | None
    name: str
    timezone: str | None
    attributes: dict[str, Any] | None
    status: str | None
    reason: str | None


def add_members(
    connection: sa.Connection,
    list_id: int,
    subscriber_ids: sa.ColumnElement[int],
    where: sa.ColumnElement[bool] | None,
    *,
    status: str,
    source: str,
    now: datetime,
) -> None:
    """INSERT ... SELECT memberships for the ``subscriber_ids`` a query yields."""
    stamp = sa.bindparam("now", now, type_=UtcDateTime)
    joining = sa.select(
        sa.literal(list_id), subscriber_ids, sa.literal(status), sa.literal(source), stamp, stamp
    )
    if where is not None:
        joining = joining.where(where)
    connection.execute(
        sa.insert(memberships).from_select(
            ["list_id", "subscriber_id", "status", "source", "created_at", "updated_at"], joining
        )
    )
