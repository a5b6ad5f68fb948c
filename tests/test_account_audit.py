"""The audit log: one entry for each change, with who made it and what it was done to, none
for a change refused; read newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailer.accounts.audit import entries, record
from mailer.accounts.login import log_in
from mailer.accounts.tokens import create_token, revoke_token
from mailer.accounts.users import (
    add_user,
    change_role,
    log_out_everywhere,
    remove_user,
    set_password,
)
from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.errors import FieldError, MailerError
from tests.account_helpers import OTHER_PASSWORD, PASSWORD, cheap_hashing, clock, mailer
from tests.service_helpers import MovingClock

__all__ = ["cheap_hashing", "clock", "mailer"]  # fixtures
ANN = "ann@example.com"
Change = Callable[[Mailer], object]

# Each change, the entry it must write (actor, action, target, detail).
CHANGES: list[tuple[Change, tuple[str, str, str, dict[str, object] | None]]] = [
    (
        lambda mailer: add_user(mailer, "bo@example.com", "editor", PASSWORD, actor=ANN),
        (ANN, "user.add", "bo@example.com", {"role": "editor", "can_send": False}),
    ),
    (
        lambda mailer: change_role(mailer, "BO@example.com", "admin", False, ANN),
        (
            ANN,
            "user.role",
            "bo@example.com",
            {
                "role": "admin",
                "can_send": False,
                "previous_role": "editor",
                "previous_can_send": False,
            },
        ),
    ),
    (
        lambda mailer: log_in(mailer, "bo@example.com", PASSWORD, "192.0.2.9"),
        ("bo@example.com", "user.login", "bo@example.com", {"ip": "192.0.2.9"}),
    ),
    (
        lambda mailer: set_password(mailer, "bo@example.com", OTHER_PASSWORD, "bo@example.com"),
        ("bo@example.com", "user.password", "bo@example.com", {"sessions_ended": 1}),
    ),
    (
        lambda mailer: log_out_everywhere(mailer, "bo@example.com", "cli"),
        ("cli", "user.logout", "bo@example.com", {"sessions_ended": 0}),
    ),
    (
        lambda mailer: remove_user(mailer, "bo@example.com", ANN),
        (ANN, "user.remove", "bo@example.com", {"role": "admin"}),
    ),
    (
        lambda mailer: create_token(mailer, "deploy", "viewer", actor="token:root"),
        ("token:root", "token.create", "deploy", {"role": "viewer", "can_send": False}),
    ),
    (
        lambda mailer: revoke_token(mailer, "deploy", ANN),
        (ANN, "token.revoke", "deploy", None),
    ),
]


def test_each_change_writes_one_entry_naming_who_and_what(
    mailer: Mailer, clock: MovingClock
) -> None:
    add_user(mailer, ANN, "owner", PASSWORD, actor="cli")
    for change, expected in CHANGES:
        clock.advance(minutes=1)
        latest = entries(mailer, limit=1)[0].id
        change(mailer)
        [entry] = [found for found in entries(mailer) if found.id > latest]
        assert (entry.actor, entry.action, entry.target, entry.detail) == expected
        assert entry.at == clock.now


@pytest.mark.parametrize(
    "refused",
    [
        lambda mailer: add_user(mailer, ANN, "owner", PASSWORD, actor="cli"),
        lambda mailer: add_user(mailer, "bo@example.com", "owner", "short", actor="cli"),
        lambda mailer: remove_user(mailer, ANN, "cli"),
        lambda mailer: change_role(mailer, ANN, "viewer", None, "cli"),
        lambda mailer: set_password(mailer, "nobody@example.com", OTHER_PASSWORD, "cli"),
        lambda mailer: revoke_token(mailer, "nope", "cli"),
        lambda mailer: create_token(mailer, "../x", "viewer", actor="cli"),
        lambda mailer: log_in(mailer, ANN, OTHER_PASSWORD, None),
    ],
    ids=[
        "taken",
        "weak",
        "last-owner",
        "demote-last",
        "unknown",
        "no-token",
        "bad-name",
        "wrong-password",
    ],
)
def test_a_refused_change_writes_nothing(mailer: Mailer, refused: Change) -> None:
    add_user(mailer, ANN, "owner", PASSWORD, actor="cli")
    with pytest.raises(MailerError):
        refused(mailer)
    assert [entry.action for entry in entries(mailer)] == ["user.add"]


def test_entries_come_newest_first_a_page_at_a_time(mailer: Mailer, clock: MovingClock) -> None:
    with write_transaction(mailer.engine) as connection:
        for number in range(1, 121):
            action = "token.create" if number % 3 == 0 else "user.add"
            record(connection, "cli", action, f"t{number}", {"n": number}, clock.now)
    pages: list[list[int]] = []
    before: int | None = None
    while page := entries(mailer, limit=50, before_id=before):
        pages.append([entry.detail["n"] for entry in page])  # type: ignore[index]
        before = page[-1].id
    assert pages == [
        list(range(120, 70, -1)),
        list(range(70, 20, -1)),
        list(range(20, 0, -1)),
    ]
    tokens = entries(mailer, limit=1000, action_prefix="token.")
    assert [entry.target for entry in tokens] == [f"t{n}" for n in range(120, 0, -3)]


def test_an_action_prefix_is_matched_as_written(mailer: Mailer, clock: MovingClock) -> None:
    with write_transaction(mailer.engine) as connection:
        for action in ["user.add", "user_add", "userXadd", "user%", "token.create"]:
            record(connection, "cli", action, "x", None, clock.now)
    assert [entry.action for entry in entries(mailer, action_prefix="user.")] == ["user.add"]
    assert [entry.action for entry in entries(mailer, action_prefix="user_")] == ["user_add"]
    assert [entry.action for entry in entries(mailer, action_prefix="user%")] == ["user%"]


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_a_page_size_out_of_range_is_refused(mailer: Mailer, limit: int) -> None:
    with pytest.raises(FieldError, match=r"^limit '-?\d+': use 1 to 1000$"):
        entries(mailer, limit=limit)


@pytest.mark.parametrize("prefix", ["user\x00", "u" * 101])
def test_an_action_prefix_no_action_can_have_is_refused(mailer: Mailer, prefix: str) -> None:
    with pytest.raises(FieldError, match=r"^action: use at most 100 characters, and no NUL$"):
        entries(mailer, action_prefix=prefix)


@pytest.mark.parametrize("before_id", [0, -5, 2**63, 10**20])
def test_a_page_start_no_entry_can_have_is_refused(mailer: Mailer, before_id: int) -> None:
    with pytest.raises(FieldError, match=r"^before '-?\d+': use an entry's id"):
        entries(mailer, before_id=before_id)
