"""Mailing lists on behalf of a principal: read with ``read``, change with
``manage_audience``; each change in the audit log."""

from __future__ import annotations

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.audience import list_usage as usage
from mailer.audience import lists
from mailer.audience.list_usage import ListUsage
from mailer.audience.lists import ListChanges, ListDeletion, MailingList
from mailer.db.engine import write_transaction


def list_page(
    mailer: Mailer, principal: Principal, *, after: str | None, limit: int
) -> Page[MailingList, str]:
    """Lists by name after the list named ``after`` (from the first when None)."""
    principal.require(Permission.READ)
    found = lists.lists_after(mailer.engine, after, check_limit(limit) + 1)
    return page_of(found, limit, lambda mailing_list: mailing_list.name)


def show_list(mailer: Mailer, principal: Principal, name: str) -> MailingList:
    principal.require(Permission.READ)
    return lists.list_with_counts(mailer.engine, name)


def create_list(
    mailer: Mailer,
    principal: Principal,
    name: str,
    *,
    title: str = "",
    description: str = "",
    double_opt_in: bool = False,
    public: bool = False,
) -> MailingList:
    principal.require(Permission.MANAGE_AUDIENCE)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        created = lists.create_list_in(
            connection,
            name,
            title=title,
            description=description,
            double_opt_in=double_opt_in,
            public=public,
            now=now,
        )
        detail = {
            "title": created.title,
            "double_opt_in": created.double_opt_in,
            "public": created.public,
        }
        audit.record(connection, principal.actor, "list.create", name, detail, now)
    return created


def change_list(
    mailer: Mailer, principal: Principal, name: str, changes: ListChanges
) -> MailingList:
    """The list after ``changes``; the audit entry holds each changed field before and after
    (none is written when nothing changed)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        before, after = lists.update_list_in(connection, name, changes)
        old, new = before.as_json(), after.as_json()
        changed = {
            field: {"from": old[field], "to": new[field]}
            for field in new
            if old[field] != new[field]
        }
        if changed:
            audit.record(connection, principal.actor, "list.update", name, changed, now)
    return after


def rename_list(mailer: Mailer, principal: Principal, name: str, new_name: str) -> MailingList:
    """The list under its new name (see :func:`mailer.audience.lists.rename_list_in`)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        renamed = lists.rename_list_in(connection, name, new_name)
        detail = {"from": name, "to": new_name}
        audit.record(connection, principal.actor, "list.rename", new_name, detail, now)
    return renamed


def delete_list(mailer: Mailer, principal: Principal, name: str) -> ListDeletion:
    principal.require(Permission.MANAGE_AUDIENCE)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        deleted = lists.delete_list_in(connection, name)
        detail = {
            "memberships": deleted.memberships,
            "unsubscribes_kept": deleted.unsubscribes_kept,
        }
        audit.record(connection, principal.actor, "list.delete", name, detail, now)
    return deleted


def list_usage(mailer: Mailer, principal: Principal, name: str) -> ListUsage:
    """What deleting the list would touch (members, campaigns not done, schedules), for
    whoever may delete it."""
    principal.require(Permission.MANAGE_AUDIENCE)
    with mailer.engine.connect() as connection:
        return usage.list_usage(connection, name)
