"""Roles: what each may do, with and without the right to send, and how a refusal reads."""

from __future__ import annotations

import pytest

from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import (
    Permission,
    Principal,
    Role,
    can_send_for,
    permissions,
    role_named,
)
from mailer.db.account_tables import ROLES
from mailer.errors import FieldError

P = Permission
READS = {P.READ}
EDITS = READS | {P.EDIT_ISSUES}
MANAGES = EDITS | {P.MANAGE_AUDIENCE, P.MANAGE_CAMPAIGNS}
EVERYTHING = set(Permission)
# (role, can_send): what the role may do.
EXPECTED = {
    (Role.VIEWER, False): READS,
    (Role.VIEWER, True): READS,
    (Role.EDITOR, False): EDITS,
    (Role.EDITOR, True): EDITS | {P.SEND},
    (Role.ADMIN, False): MANAGES,
    (Role.ADMIN, True): MANAGES | {P.SEND},
    (Role.OWNER, False): EVERYTHING,
    (Role.OWNER, True): EVERYTHING,
}


@pytest.mark.parametrize("can_send", [False, True], ids=["no-send", "send"])
@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_its_share(
    role: Role, permission: Permission, can_send: bool
) -> None:
    principal = Principal("user", "ann@example.com", role, can_send, user_id=1)
    allowed = permission in EXPECTED[role, can_send]
    assert principal.can(permission) is allowed
    assert (permission in permissions(role, can_send)) is allowed
    if allowed:
        principal.require(permission)
    else:
        with pytest.raises(Forbidden) as refused:
            principal.require(permission)
        assert refused.value.permission == permission


def test_a_refusal_names_the_role_the_person_and_the_action() -> None:
    editor = Principal("user", "ann@example.com", Role.EDITOR, False, user_id=1)
    with pytest.raises(Forbidden, match=r"^editor ann@example\.com may not send campaigns$"):
        editor.require(Permission.SEND)
    token = Principal("token", "deploy", Role.VIEWER, False, token_id=3)
    with pytest.raises(Forbidden, match=r"^viewer token deploy may not edit issues$"):
        token.require(Permission.EDIT_ISSUES)


def test_the_shell_user_is_an_owner_recorded_as_cli() -> None:
    shell = Principal.cli()
    assert shell.role is Role.OWNER
    assert all(shell.can(permission) for permission in Permission)
    assert shell.actor == "cli"
    assert Principal("token", "deploy", Role.EDITOR, False).actor == "token:deploy"
    assert Principal("user", "ann@example.com", Role.EDITOR, False).actor == "ann@example.com"


def test_sending_defaults_to_yes_for_owners_and_admins_only() -> None:
    assert {role: can_send_for(role, None) for role in Role} == {
        Role.OWNER: True,
        Role.ADMIN: True,
        Role.EDITOR: False,
        Role.VIEWER: False,
    }
    assert can_send_for(Role.EDITOR, True) is True
    assert can_send_for(Role.ADMIN, False) is False


@pytest.mark.parametrize(
    ("role", "can_send", "problem"),
    [
        (Role.OWNER, False, "an owner can always send campaigns"),
        (Role.VIEWER, True, "a viewer can never send campaigns"),
    ],
)
def test_a_sending_right_the_role_contradicts_is_refused(
    role: Role, can_send: bool, problem: str
) -> None:
    with pytest.raises(FieldError) as refused:
        can_send_for(role, can_send)
    assert (refused.value.field, refused.value.problem) == ("can_send", problem)


def test_an_unknown_role_is_refused_with_the_roles() -> None:
    assert role_named("admin") is Role.ADMIN
    with pytest.raises(FieldError) as refused:
        role_named("root")
    assert str(refused.value) == "role 'root': use one of owner, admin, editor, viewer"


def test_the_tables_check_the_same_roles() -> None:
    assert tuple(Role) == ROLES
