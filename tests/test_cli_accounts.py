"""`mailer users`, `mailer tokens` and `mailer audit` end to end: what they print (and their
--json shapes), what they store, and one line for each mistake, naming it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

import pytest

from mailer.accounts.login import log_in
from mailer.accounts.tokens import token_principal
from mailer.app import Mailer
from tests.account_helpers import PASSWORD, cheap_hashing
from tests.conftest import CliResult, Project

__all__ = ["cheap_hashing"]  # fixtures
Cli = Callable[..., CliResult]
Feed = Callable[[str], None]


@pytest.fixture
def feed(monkeypatch: pytest.MonkeyPatch) -> Feed:
    """Give the next command this standard input."""

    def give(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return give


@pytest.fixture
def app(db_project: Project) -> Iterator[Mailer]:
    """The application on the project's database, to do what only the web does (log in)."""
    mailer = Mailer(db_project.settings(), environ={})
    yield mailer
    mailer.close()


def ok(result: CliResult) -> str:
    assert result.code == 0, result.err
    return result.out


def error(result: CliResult) -> str:
    """The one line a refused command prints."""
    assert result.code == 1, (result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    return result.err.removesuffix("\n")


def add(cli: Cli, feed: Feed, email: str, *options: str, password: str = PASSWORD) -> CliResult:
    feed(password + "\n")
    return cli("users", "add", email, *options, "--password-stdin")


def test_users_are_added_and_listed(db_project: Project, cli: Cli, feed: Feed) -> None:
    assert "No users yet" in ok(cli("users"))
    assert ok(add(cli, feed, "Ann@Example.com", "--role", "owner")) == (
        "Added Ann@example.com as owner (can send).\n"
    )
    assert ok(add(cli, feed, "ed@example.com", "--role", "editor", "--can-send")) == (
        "Added ed@example.com as editor (can send).\n"
    )
    listed = json.loads(ok(cli("users", "--json")))
    assert [sorted(user) for user in listed] == [
        ["active_sessions", "can_send", "created_at", "email", "password_changed_at", "role"]
    ] * 2
    assert [(user["email"], user["role"], user["can_send"]) for user in listed] == [
        ("Ann@example.com", "owner", True),
        ("ed@example.com", "editor", True),
    ]
    table = ok(cli("users"))
    assert "Ann@example.com" in table and "editor" in table


def test_sessions_are_counted_and_ended_by_logout_password_and_removal(
    db_project: Project, cli: Cli, feed: Feed, app: Mailer
) -> None:
    ok(add(cli, feed, "ann@example.com", "--role", "owner"))
    ok(add(cli, feed, "bo@example.com", "--role", "admin"))
    for _ in range(2):
        log_in(app, "bo@example.com", PASSWORD, None)

    def sessions_of_bo() -> int:
        listed = json.loads(ok(cli("users", "--json")))
        counts = {user["email"]: user["active_sessions"] for user in listed}
        return int(counts["bo@example.com"])

    assert sessions_of_bo() == 2
    assert ok(cli("users", "logout", "bo@example.com")) == "Ended 2 sessions of bo@example.com.\n"
    assert sessions_of_bo() == 0
    log_in(app, "bo@example.com", PASSWORD, None)
    feed("another long passphrase\n")
    assert ok(cli("users", "password", "BO@example.com", "--password-stdin")) == (
        "Changed the password of BO@example.com; 1 session ended.\n"
    )
    principal, _ = log_in(app, "bo@example.com", "another long passphrase", None)
    assert ok(cli("users", "role", "bo@example.com", "--role", "editor")) == (
        "bo@example.com is editor (cannot send).\n"
    )
    assert ok(cli("users", "remove", "bo@example.com")).startswith("Removed bo@example.com")
    assert [user["email"] for user in json.loads(ok(cli("users", "--json")))] == ["ann@example.com"]
    assert principal.name == "bo@example.com"


def test_a_token_secret_is_printed_once(db_project: Project, cli: Cli, app: Mailer) -> None:
    out = ok(cli("tokens", "create", "deploy", "--role", "editor", "--can-send"))
    first, secret, last = out.splitlines()
    assert first == "Created token deploy (editor, can send). Its secret:"
    assert "will not be shown again" in last
    principal = token_principal(app, secret)
    assert principal is not None and (principal.role, principal.can_send) == ("editor", True)
    listed = ok(cli("tokens", "--json"))
    assert secret not in listed and secret not in ok(cli("tokens"))
    [token] = json.loads(listed)
    assert sorted(token) == [
        "can_send",
        "created_at",
        "created_by",
        "last_used_at",
        "name",
        "revoked_at",
        "role",
    ]
    assert (token["name"], token["created_by"], token["revoked_at"]) == ("deploy", "cli", None)
    assert token["last_used_at"] is not None
    assert ok(cli("tokens", "revoke", "deploy")) == "Revoked token deploy.\n"
    assert token_principal(app, secret) is None
    assert json.loads(ok(cli("tokens", "--json")))[0]["revoked_at"] is not None
    made = json.loads(ok(cli("tokens", "create", "ci", "--role", "viewer", "--json")))
    assert (made["name"], made["role"], made["can_send"]) == ("ci", "viewer", False)
    assert token_principal(app, made["secret"]) is not None


def test_the_audit_log_lists_every_change_made_here_as_the_cli(
    db_project: Project, cli: Cli, feed: Feed
) -> None:
    ok(add(cli, feed, "ann@example.com", "--role", "owner"))
    ok(cli("tokens", "create", "deploy", "--role", "viewer"))
    ok(cli("users", "logout", "ann@example.com"))
    ok(cli("tokens", "revoke", "deploy"))
    entries = json.loads(ok(cli("audit", "--json")))
    assert [(entry["actor"], entry["action"], entry["target"]) for entry in entries] == [
        ("cli", "token.revoke", "deploy"),
        ("cli", "user.logout", "ann@example.com"),
        ("cli", "token.create", "deploy"),
        ("cli", "user.add", "ann@example.com"),
    ]
    assert sorted(entries[0]) == ["action", "actor", "at", "detail", "id", "target"]
    tokens = json.loads(ok(cli("audit", "--json", "--action", "token.", "--limit", "1")))
    assert [entry["action"] for entry in tokens] == ["token.revoke"]
    older = json.loads(ok(cli("audit", "--json", "--before", str(entries[1]["id"]))))
    assert [entry["id"] for entry in older] == [entries[2]["id"], entries[3]["id"]]
    assert "user.add" in ok(cli("audit"))
    assert ok(cli("audit", "--action", "campaign.")) == (
        "No audit entries with an action starting with 'campaign.'.\n"
    )


NOT_AN_ADDRESS = "email 'not an address': not a valid email address: "


@pytest.mark.parametrize(
    ("words", "stdin", "message"),
    [
        (["users", "add", "not an address", "--role", "admin"], PASSWORD, NOT_AN_ADDRESS),
        (
            ["users", "add", "ann@example.com", "--role", "admin"],
            PASSWORD,
            "email 'ann@example.com': already has an account",
        ),
        (
            ["users", "add", "a\x1b[2J@x.com", "--role", "admin"],
            PASSWORD,
            "email 'a\\x1b[2J@x.com': not a valid email address",
        ),
        (
            ["users", "add", "a" * 10_000 + "@x.com", "--role", "admin"],
            PASSWORD,
            "email '" + "a" * 80 + "…': is 10,006 characters long; an address has at most 254",
        ),
        (
            ["users", "add", "vi@example.com", "--role", "viewer", "--can-send"],
            PASSWORD,
            "--can-send: a viewer can never send campaigns",
        ),
        (
            ["users", "add", "ow@example.com", "--role", "owner", "--no-can-send"],
            PASSWORD,
            "--no-can-send: an owner can always send campaigns",
        ),
        (
            ["users", "add", "bo@example.com", "--role", "admin"],
            "short",
            "password: use at least 12 characters (this one has 5)",
        ),
        (
            ["users", "add", "bo@example.com", "--role", "admin"],
            "",
            "--password-stdin: standard input holds no password line",
        ),
        (
            ["users", "remove", "ann@example.com"],
            "",
            "ann@example.com is the only owner and cannot be removed: make another user an owner "
            "first",
        ),
        (
            ["users", "role", "ann@example.com", "--role", "admin"],
            "",
            "ann@example.com is the only owner and must stay one",
        ),
        (
            ["users", "remove", "nobody@example.com"],
            "",
            "email 'nobody@example.com': no user has this address",
        ),
        (
            ["users", "logout", "nobody@example.com"],
            "",
            "email 'nobody@example.com': no user has this address",
        ),
        (
            ["users", "password", "ann@example.com"],
            "password1234",
            "password: is one of the most common passwords; choose another",
        ),
        (
            ["tokens", "create", "../x", "--role", "viewer"],
            "",
            "token name '../x': use 1-64 of a-z 0-9 _ . -, starting with a letter or a digit",
        ),
        (["tokens", "create", "a/b", "--role", "viewer"], "", "token name 'a/b': use 1-64"),
        (["tokens", "create", "..", "--role", "viewer"], "", "token name '..': use 1-64"),
        (["tokens", "create", "a\nb", "--role", "viewer"], "", "token name 'a\\nb': use 1-64"),
        (["tokens", "create", "dépl", "--role", "viewer"], "", "token name 'dépl': use 1-64"),
        (["tokens", "revoke", "nope"], "", "token name 'nope': no token has this name"),
    ],
)
def test_each_mistake_is_one_line_naming_it(
    db_project: Project, cli: Cli, feed: Feed, words: list[str], stdin: str, message: str
) -> None:
    ok(add(cli, feed, "ann@example.com", "--role", "owner"))
    feed(stdin + "\n" if stdin else "")
    password_from_stdin = words[:2] in (["users", "add"], ["users", "password"])
    line = error(cli(*words, *(["--password-stdin"] if password_from_stdin else [])))
    assert line.startswith(f"error: {message}")
    assert len(json.loads(ok(cli("users", "--json")))) == 1


def test_no_password_is_asked_for_a_user_that_does_not_exist(
    db_project: Project, cli: Cli, feed: Feed
) -> None:
    feed("")
    assert error(cli("users", "password", "nobody@example.com")) == (
        "error: email 'nobody@example.com': no user has this address"
    )


def test_a_password_is_not_asked_for_without_a_terminal(
    db_project: Project, cli: Cli, feed: Feed
) -> None:
    feed(PASSWORD + "\n" + PASSWORD + "\n")
    assert error(cli("users", "add", "ann@example.com", "--role", "owner")) == (
        "error: no terminal to type the password at: give it on standard input with "
        "--password-stdin"
    )


def test_an_unknown_role_is_a_usage_error(db_project: Project, cli: Cli) -> None:
    result = cli("tokens", "create", "deploy", "--role", "root")
    assert result.code == 2
    assert "--role" in result.err
