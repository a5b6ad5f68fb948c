"""Mailing lists: create, describe with member counts, delete."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import MEMBERSHIP_STATUSES, list_unsubscribes, lists, memberships
from mailer.errors import MailerError

LIST_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


@dataclass(frozen=True)
class MailingList:
    id: int
    name: str
    title: str
    description: str
    double_opt_in: bool
    public: bool
    created_at: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "double_opt_in": self.double_opt_in,
            "public": self.public,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "counts": self.counts,
        }


def _row_to_list(
    row: sa.Row[tuple[object, ...]], counts: dict[str, int] | None = None
) -> MailingList:
    return MailingList(
        id=int(row.id),
        name=str(row.name),
        title=str(row.title),
        description=str(row.description),
        double_opt_in=bool(row.double_opt_in),
        public=bool(row.public),
        created_at=row.created_at,
        counts=counts or dict.fromkeys(MEMBERSHIP_STATUSES, 0),
    )


def check_list_name(name: str) -> str:
    if not LIST_NAME.fullmatch(name):
        raise MailerError(
            f"list name {name!r}: use 1-100 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def find_list(connection: sa.Connection, name: str) -> MailingList:
    row = connection.execute(sa.select(lists).where(lists.c.name == name)).first()
    if row is None:
        known = connection.execute(sa.select(lists.c.name).order_by(lists.c.name)).scalars().all()
        hint = f" (lists: {', '.join(known)})" if known else " (there are no lists yet)"
        raise MailerError(f"no list named {name!r}{hint}")
    return _row_to_list(row)


def create_list(
    engine: sa.Engine,
    name: str,
    *,
    title: str = "",
    description: str = "",
    double_opt_in: bool = False,
    public: bool = False,
    clock: Clock = utc_now,
) -> MailingList:
    check_list_name(name)
    with write_transaction(engine) as connection:
        exists = connection.execute(sa.select(lists.c.id).where(lists.c.name == name)).first()
        if exists is not None:
            raise MailerError(f"a list named {name!r} already exists")
        now = clock()
        connection.execute(
            sa.insert(lists).values(
                name=name,
                title=title or name,
                description=description,
                double_opt_in=double_opt_in,
                public=public,
                created_at=now,
            )
        )
        created = find_list(connection, name)
        _restore_unsubscribes(connection, created, now)
        return created


def _restore_unsubscribes(connection: sa.Connection, created: MailingList, now: datetime) -> None:
    """Whoever had unsubscribed from an earlier list of this name is unsubscribed from this
    one: neither an import nor ``add`` will then confirm them again."""
    kept = list_unsubscribes.c.list_name == created.name
    connection.execute(
        sa.insert(memberships).from_select(
            ["list_id", "subscriber_id", "status", "source", "created_at", "updated_at"],
            sa.select(
                sa.literal(created.id, type_=memberships.c.list_id.type),
                list_unsubscribes.c.subscriber_id,
                sa.literal("unsubscribed"),
                list_unsubscribes.c.source,
                sa.literal(now, type_=memberships.c.created_at.type),
                list_unsubscribes.c.unsubscribed_at,
            ).where(kept),
        )
    )
    connection.execute(sa.delete(list_unsubscribes).where(kept))


def _counts(connection: sa.Connection) -> dict[int, dict[str, int]]:
    query = sa.select(memberships.c.list_id, memberships.c.status, sa.func.count()).group_by(
        memberships.c.list_id, memberships.c.status
    )
    counts: dict[int, dict[str, int]] = {}
    for list_id, status, count in connection.execute(query):
        counts.setdefault(int(list_id), dict.fromkeys(MEMBERSHIP_STATUSES, 0))[status] = count
    return counts


def all_lists(engine: sa.Engine) -> list[MailingList]:
    """Every list, by name, with its member counts by status."""
    with engine.connect() as connection:
        counts = _counts(connection)
        rows = connection.execute(sa.select(lists).order_by(lists.c.name)).all()
    return [_row_to_list(row, counts.get(int(row.id))) for row in rows]


@dataclass(frozen=True)
class ListDeletion:
    memberships: int
    """How many memberships went with the list."""
    unsubscribes_kept: int
    """Of those, the unsubscribed ones, kept for a list created again under the name."""


def delete_list(engine: sa.Engine, name: str) -> ListDeletion:
    """Delete the list and its memberships; subscribers, suppressions and the record of who
    unsubscribed from it stay."""
    with write_transaction(engine) as connection:
        mailing_list = find_list(connection, name)
        members = connection.execute(
            sa.select(sa.func.count()).where(memberships.c.list_id == mailing_list.id)
        ).scalar_one()
        unsubscribed = sa.select(
            sa.literal(name, type_=list_unsubscribes.c.list_name.type),
            memberships.c.subscriber_id,
            memberships.c.source,
            memberships.c.updated_at,
        ).where(memberships.c.list_id == mailing_list.id, memberships.c.status == "unsubscribed")
        kept = connection.execute(
            sa.select(sa.func.count()).select_from(unsubscribed.subquery())
        ).scalar_one()
        connection.execute(
            sa.insert(list_unsubscribes).from_select(
                ["list_name", "subscriber_id", "source", "unsubscribed_at"], unsubscribed
            )
        )
        connection.execute(sa.delete(lists).where(lists.c.id == mailing_list.id))
    return ListDeletion(int(members), int(kept))
