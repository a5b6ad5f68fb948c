"""The actions layer on its own (as the admin app and, later, the command line call it):
each change checks the principal's permission before touching anything, and writes its
audit entry in the same transaction; reads need only ``read``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mailer.accounts.audit import entries
from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Principal, Role
from mailer.actions import lists, suppressions
from mailer.app import Mailer
from mailer.audience.lists import ListChanges, all_lists
from mailer.errors import FieldError, NotFoundError
from tests.conftest import Project

VIEWER = Principal("user", "vera@example.com", Role.VIEWER, False, user_id=1)
EDITOR = Principal("user", "ed@example.com", Role.EDITOR, False, user_id=2)
ADMIN = Principal("token", "deploy", Role.ADMIN, True, token_id=3)


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    mailer = Mailer(db_project.settings())
    yield mailer
    mailer.close()


CHANGES: list[Callable[[Mailer, Principal], Any]] = [
    lambda mailer, who: lists.create_list(mailer, who, "new-list"),
    lambda mailer, who: lists.change_list(mailer, who, "kept", ListChanges(title="Changed")),
    lambda mailer, who: lists.delete_list(mailer, who, "kept"),
    lambda mailer, who: suppressions.suppress(mailer, who, "new@example.com"),
    lambda mailer, who: suppressions.unsuppress(mailer, who, "kept@example.com", "asked"),
]


@pytest.mark.parametrize("who", [VIEWER, EDITOR], ids=["viewer", "editor"])
def test_each_change_refuses_a_role_without_manage_audience_and_writes_nothing(
    mailer: Mailer, who: Principal
) -> None:
    lists.create_list(mailer, ADMIN, "kept", title="Kept")
    suppressions.suppress(mailer, ADMIN, "kept@example.com", "manual")
    before = len(entries(mailer))
    for change in CHANGES:
        with pytest.raises(Forbidden, match=f"{who.role} {who.name} may not manage lists"):
            change(mailer, who)
    assert [found.title for found in all_lists(mailer.engine)] == ["Kept"]
    page = suppressions.suppression_page(mailer, who, after=None, limit=10)
    assert [suppression.email for _, suppression in page.items] == ["kept@example.com"]
    assert len(entries(mailer)) == before


def test_changes_are_audited_under_the_principal_and_reads_need_read_only(
    mailer: Mailer,
) -> None:
    cli = Principal.cli()
    lists.create_list(mailer, cli, "weekly")
    lists.change_list(mailer, ADMIN, "weekly", ListChanges(public=True))
    _, added = suppressions.suppress(mailer, ADMIN, "Ann@Example.com", "invalid", "typo")
    assert added
    assert suppressions.suppress(mailer, cli, "ann@example.com")[1] is False  # no entry
    suppressions.unsuppress(mailer, cli, "ann@example.com", "fixed")
    lists.delete_list(mailer, ADMIN, "weekly")
    assert [(entry.actor, entry.action, entry.target) for entry in reversed(entries(mailer))] == [
        ("cli", "list.create", "weekly"),
        ("token:deploy", "list.update", "weekly"),
        ("token:deploy", "suppression.add", "Ann@example.com"),
        ("cli", "suppression.remove", "Ann@example.com"),
        ("token:deploy", "list.delete", "weekly"),
    ]
    assert lists.list_page(mailer, VIEWER, after=None, limit=5).items == []


def test_a_failed_change_writes_no_audit_entry_and_bad_input_names_the_field(
    mailer: Mailer,
) -> None:
    with pytest.raises(NotFoundError):
        lists.delete_list(mailer, ADMIN, "missing")
    with pytest.raises(FieldError) as refused:
        suppressions.suppress(mailer, ADMIN, "not an address")
    assert refused.value.field == "email"
    with pytest.raises(FieldError) as limit:
        lists.list_page(mailer, VIEWER, after=None, limit=0)
    assert limit.value.field == "limit"
    assert entries(mailer) == []
