"""Mailing lists: create, describe with member counts, change, delete."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import (
    MEMBERSHIP_STATUSES,
    campaigns,
    list_unsubscribes,
    lists,
    memberships,
    schedules,
)
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError

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


TITLE_MAX = 200  # the column's length


def check_list_title(title: str) -> str:
    """The title, or a FieldError for ``title`` when the database could not keep it."""
    if len(title) > TITLE_MAX:
        raise FieldError("title", f"at most {TITLE_MAX} characters ({len(title):,} given)")
    if "\x00" in title:
        raise FieldError("title", "a title cannot hold a NUL character")
    return title


def find_list(connection: sa.Connection, name: str) -> MailingList:
    row = connection.execute(sa.select(lists).where(lists.c.name == name)).first()
    if row is None:
        known = connection.execute(sa.select(lists.c.name).order_by(lists.c.name)).scalars().all()
        hint = f" (lists: {', '.join(known)})" if known else " (there are no lists yet)"
        raise NotFoundError(f"no list named {name!r}{hint}")
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
        return create_list_in(
            connection,
            name,
            title=title,
            description=description,
            double_opt_in=double_opt_in,
            public=public,
            now=clock(),
        )


def create_list_in(
    connection: sa.Connection,
    name: str,
    *,
    title: str = "",
    description: str = "",
    double_opt_in: bool = False,
    public: bool = False,
    now: datetime,
) -> MailingList:
    """``create_list`` inside the caller's write transaction."""
    check_list_name(name)
    check_list_title(title)
    exists = connection.execute(sa.select(lists.c.id).where(lists.c.name == name)).first()
    if exists is not None:
        raise ConflictError(f"a list named {name!r} already exists")
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


def _counts(
    connection: sa.Connection, list_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Member counts by status of every list (of ``list_ids`` only, when given)."""
    query = sa.select(memberships.c.list_id, memberships.c.status, sa.func.count()).group_by(
        memberships.c.list_id, memberships.c.status
    )
    if list_ids is not None:
        query = query.where(memberships.c.list_id.in_(list_ids))
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


def lists_after(engine: sa.Engine, after: str | None, limit: int) -> list[MailingList]:
    """Up to ``limit`` lists by name, those named after ``after`` (from the first when None),
    with their member counts: one page of a listing that does not skip or repeat a list when
    others are created or deleted between pages."""
    query = sa.select(lists).order_by(lists.c.name).limit(limit)
    if after is not None:
        query = query.where(lists.c.name > after)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        counts = _counts(connection, [int(row.id) for row in rows])
    return [_row_to_list(row, counts.get(int(row.id))) for row in rows]


def list_with_counts(engine: sa.Engine, name: str) -> MailingList:
    """The list named ``name`` with its member counts (NotFoundError if there is none)."""
    with engine.connect() as connection:
        found = find_list(connection, name)
        counts = _counts(connection, [found.id])
    return replace(found, counts=counts.get(found.id) or found.counts)


@dataclass(frozen=True)
class ListChanges:
    """What ``update_list_in`` changes; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    double_opt_in: bool | None = None
    public: bool | None = None

    def values(self) -> dict[str, str | bool]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def update_list_in(
    connection: sa.Connection, name: str, changes: ListChanges
) -> tuple[MailingList, MailingList]:
    """Change a list's title, description, opt-in or visibility inside the caller's write
    transaction; the list before and after. An empty title means the name, as at creation.
    Members are untouched: switching to double opt-in does not unconfirm anyone."""
    before = find_list(connection, name)
    if changes.title is not None:
        check_list_title(changes.title)
    values = changes.values()
    if values.get("title") == "":
        values["title"] = name
    if values:
        connection.execute(sa.update(lists).where(lists.c.id == before.id).values(values))
    after = find_list(connection, name)
    counts = _counts(connection, [after.id]).get(after.id) or after.counts
    return replace(before, counts=counts), replace(after, counts=counts)


def rename_list_in(connection: sa.Connection, name: str, new_name: str) -> MailingList:
    """Give a list another name inside the caller's write transaction; the list renamed.
    Its members, campaigns and schedules made with ``schedules add`` follow it. Refused: a
    name in use or not valid, a name whose deleted list's unsubscribes are kept (they would
    apply to a list created under it), and a list a schedule of the config file sends to
    (the file would still name the old list)."""
    found = find_list(connection, name)
    check_list_name(new_name)
    if new_name == name:
        raise ConflictError(f"the list is named {name!r} already")
    if connection.execute(sa.select(lists.c.id).where(lists.c.name == new_name)).first():
        raise ConflictError(f"a list named {new_name!r} already exists")
    kept = list_unsubscribes.c.list_name == new_name
    if connection.execute(sa.select(list_unsubscribes.c.list_name).where(kept)).first():
        raise ConflictError(
            f"a list named {new_name!r} was deleted, and who had unsubscribed from it is kept "
            "for a list created under that name: choose another name"
        )
    from_config = (
        connection.execute(
            sa.select(schedules.c.name)
            .where(schedules.c.list_name == name, schedules.c.origin == "config")
            .order_by(schedules.c.name)
        )
        .scalars()
        .all()
    )
    if from_config:
        raise ConflictError(
            f"the config file's schedule {from_config[0]!r} sends to {name!r}: take it out of "
            "the config file, rename the list, then add it back with the new name"
        )
    connection.execute(sa.update(lists).where(lists.c.id == found.id).values(name=new_name))
    connection.execute(
        sa.update(schedules).where(schedules.c.list_name == name).values(list_name=new_name)
    )
    connection.execute(
        sa.update(campaigns).where(campaigns.c.list_id == found.id).values(list_name=new_name)
    )
    renamed = find_list(connection, new_name)
    counts = _counts(connection, [renamed.id]).get(renamed.id) or renamed.counts
    return replace(renamed, counts=counts)


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
        return delete_list_in(connection, name)


def delete_list_in(connection: sa.Connection, name: str) -> ListDeletion:
    """``delete_list`` inside the caller's write transaction."""
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
