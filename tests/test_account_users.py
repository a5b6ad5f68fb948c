"""Accounts: added once per address, never with a bad address or a weak password; the last
owner stays; removing a user or changing a password ends their sessions at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from mailer.accounts.errors import LoginRefused
from mailer.accounts.login import log_in
from mailer.accounts.roles import Role
from mailer.accounts.sessions import session_principal, start_session
from mailer.accounts.users import (
    LastOwner,
    add_user,
    change_role,
    find_user,
    list_users,
    log_out_everywhere,
    remove_user,
    set_password,
)
from mailer.app import Mailer
from mailer.db.tables import audit_log, sessions, users
from mailer.errors import FieldError
from tests.account_helpers import OTHER_PASSWORD, PASSWORD, cheap_hashing, clock, mailer

__all__ = ["cheap_hashing", "clock", "mailer"]  # fixtures


def _count(mailer: Mailer, table: sa.Table) -> int:
    with mailer.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_user_is_stored_with_the_address_normalized_and_the_role_defaults(
    mailer: Mailer,
) -> None:
    added = add_user(mailer, "  Ann@EXAMPLE.com ", "admin", PASSWORD, actor="cli")
    assert (added.email, added.role, added.can_send) == ("Ann@example.com", Role.ADMIN, True)
    assert "password_hash" not in {field.name for field in dataclasses.fields(added)}
    editor = add_user(mailer, "bo@example.com", Role.EDITOR, PASSWORD, actor="cli")
    assert editor.can_send is False
    assert [user.email for user in list_users(mailer)] == ["Ann@example.com", "bo@example.com"]
    assert find_user(mailer, "ann@example.com") == added
    assert find_user(mailer, "nobody@example.com") is None
    assert find_user(mailer, "not an address") is None


def test_an_address_has_one_account_whatever_its_case(mailer: Mailer) -> None:
    add_user(mailer, "ann@example.com", "editor", PASSWORD, actor="cli")
    with pytest.raises(FieldError) as refused:
        add_user(mailer, "ANN@example.com", "viewer", PASSWORD, actor="cli")
    assert str(refused.value) == "email 'ANN@example.com': already has an account"
    assert _count(mailer, users) == 1
    assert _count(mailer, audit_log) == 1


@pytest.mark.parametrize(
    "email",
    [
        "not an address",
        "ann@",
        "ann\x00@example.com",
        "ann\n@example.com",
        "a\x1b[31m@x.com",
        "ann@exa mple.com",
        "a" * 10_000 + "@example.com",
        "ann@" + "x" * 10_000 + ".com",
    ],
    ids=["words", "no-domain", "nul", "newline", "escape", "space", "long-local", "long-domain"],
)
def test_a_bad_address_is_refused_in_one_short_line(mailer: Mailer, email: str) -> None:
    with pytest.raises(FieldError) as refused:
        add_user(mailer, email, "editor", PASSWORD, actor="cli")
    message = str(refused.value)
    assert refused.value.field == "email"
    assert "\n" not in message and "\x1b" not in message and "\x00" not in message
    assert len(message) < 400
    assert _count(mailer, users) == 0


def test_a_weak_password_stores_nothing(mailer: Mailer) -> None:
    with pytest.raises(FieldError, match=r"^password: use at least 12 characters"):
        add_user(mailer, "ann@example.com", "owner", "hunter2", actor="cli")
    with pytest.raises(FieldError, match=r"^password: must not be the account's email"):
        add_user(mailer, "ann@example.com", "owner", "Ann@Example.com", actor="cli")
    assert _count(mailer, users) == 0
    assert _count(mailer, audit_log) == 0


def test_the_last_owner_can_be_neither_removed_nor_demoted(mailer: Mailer) -> None:
    add_user(mailer, "ann@example.com", "owner", PASSWORD, actor="cli")
    with pytest.raises(LastOwner, match=r"ann@example\.com is the only owner"):
        remove_user(mailer, "ann@example.com", "cli")
    with pytest.raises(LastOwner, match=r"ann@example\.com is the only owner"):
        change_role(mailer, "ann@example.com", "admin", None, "cli")
    still = find_user(mailer, "ann@example.com")
    assert still is not None and still.role is Role.OWNER
    # With a second owner, either may go.
    add_user(mailer, "bo@example.com", "owner", PASSWORD, actor="cli")
    demoted = change_role(mailer, "ann@example.com", "editor", None, "cli")
    assert (demoted.role, demoted.can_send) == (Role.EDITOR, False)
    with pytest.raises(LastOwner):
        remove_user(mailer, "bo@example.com", "cli")
    remove_user(mailer, "ann@example.com", "cli")
    assert [user.email for user in list_users(mailer)] == ["bo@example.com"]


def test_removing_a_user_ends_their_sessions_at_once(mailer: Mailer) -> None:
    add_user(mailer, "ann@example.com", "owner", PASSWORD, actor="cli")
    bo = add_user(mailer, "bo@example.com", "editor", PASSWORD, actor="cli")
    tokens = [start_session(mailer, bo.id), start_session(mailer, bo.id)]
    assert all(session_principal(mailer, token) is not None for token in tokens)
    remove_user(mailer, "BO@example.com", "ann@example.com")
    assert [session_principal(mailer, token) for token in tokens] == [None, None]
    assert _count(mailer, sessions) == 0


def test_a_new_password_ends_every_session_and_replaces_the_old_one(mailer: Mailer) -> None:
    ann = add_user(mailer, "ann@example.com", "owner", PASSWORD, actor="cli")
    token = start_session(mailer, ann.id)
    with pytest.raises(FieldError, match=r"^password: "):
        set_password(mailer, "ann@example.com", "short", "cli")
    assert session_principal(mailer, token) is not None  # a refused change changes nothing
    assert set_password(mailer, "ann@example.com", OTHER_PASSWORD, "cli") == 1
    assert session_principal(mailer, token) is None
    principal, _ = log_in(mailer, "ann@example.com", OTHER_PASSWORD, None)
    assert principal.name == "ann@example.com"
    with pytest.raises(LoginRefused):
        log_in(mailer, "ann@example.com", PASSWORD, None)
    changed = find_user(mailer, "ann@example.com")
    assert changed is not None and changed.password_changed_at == mailer.clock()


def test_a_role_holds_from_the_next_request_of_a_session(mailer: Mailer) -> None:
    add_user(mailer, "ann@example.com", "owner", PASSWORD, actor="cli")
    bo = add_user(mailer, "bo@example.com", "admin", PASSWORD, actor="cli")
    token = start_session(mailer, bo.id)
    change_role(mailer, "bo@example.com", "viewer", None, "ann@example.com")
    seen = session_principal(mailer, token)
    assert seen is not None and (seen.role, seen.can_send) == (Role.VIEWER, False)


def test_the_sending_right_is_kept_when_the_role_is_and_defaulted_when_it_changes(
    mailer: Mailer,
) -> None:
    add_user(mailer, "ed@example.com", "editor", PASSWORD, True, actor="cli")
    assert change_role(mailer, "ed@example.com", "editor", None, "cli").can_send is True
    assert change_role(mailer, "ed@example.com", "admin", None, "cli").can_send is True
    assert change_role(mailer, "ed@example.com", "admin", False, "cli").can_send is False
    assert change_role(mailer, "ed@example.com", "editor", None, "cli").can_send is False
    with pytest.raises(FieldError, match=r"^can_send: a viewer can never send"):
        change_role(mailer, "ed@example.com", "viewer", True, "cli")


@pytest.mark.parametrize(
    "action",
    [
        lambda mailer: remove_user(mailer, "nobody@example.com", "cli"),
        lambda mailer: set_password(mailer, "nobody@example.com", OTHER_PASSWORD, "cli"),
        lambda mailer: change_role(mailer, "nobody@example.com", "viewer", None, "cli"),
        lambda mailer: log_out_everywhere(mailer, "nobody@example.com", "cli"),
    ],
    ids=["remove", "password", "role", "logout"],
)
def test_an_unknown_user_is_named(mailer: Mailer, action: Callable[[Mailer], object]) -> None:
    with pytest.raises(FieldError) as refused:
        action(mailer)
    assert str(refused.value) == "email 'nobody@example.com': no user has this address"
