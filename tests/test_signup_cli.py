"""The command line follows double opt-in: `subscribers add` on a double opt-in list mails
each new member a link to confirm (unless --confirmed), and `subscribers confirm` lets an
admin confirm someone, recorded as the command line's doing."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from mailer.app import Mailer
from mailer.services.confirmation import confirm
from mailer.services.consent import Origin
from tests.conftest import CliResult, Project, show_json
from tests.signup_helpers import confirm_token, consent, part

Cli = Callable[..., CliResult]


@pytest.fixture
def daily(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "daily", "--double-opt-in", "--title", "Daily").code == 0
    assert cli("lists", "create", "weekly").code == 0
    return cli


def sent(project: Project) -> list[EmailMessage]:
    folder = project.root / "var" / "outbox" / "test"
    messages = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def statuses(cli: Cli, email: str) -> dict[str, str]:
    return {entry["list"]: entry["status"] for entry in show_json(cli, email)["lists"]}


def test_add_to_a_double_opt_in_list_mails_a_link_that_confirms(
    db_project: Project, daily: Cli
) -> None:
    result = daily("subscribers", "add", "ada@example.com", "bo@example.com", "--list", "daily")
    assert result.code == 0, result.err
    assert "ada@example.com: mailed a link to confirm" in result.out
    messages = sent(db_project)
    assert sorted(str(message["To"]) for message in messages) == [
        "ada@example.com",
        "bo@example.com",
    ]
    assert "Daily" in part(messages[0], "plain")
    app = Mailer(db_project.settings(), environ={})
    try:
        for message in messages:
            confirm(app, confirm_token(app, message), Origin("confirmation page"))
    finally:
        app.close()
    assert statuses(daily, "ada@example.com") == {"daily": "confirmed"}
    assert statuses(daily, "bo@example.com") == {"daily": "confirmed"}


def test_add_keeps_its_json_and_mails_nobody_it_need_not(db_project: Project, daily: Cli) -> None:
    result = daily("subscribers", "add", "ada@example.com", "--list", "daily", "--json")
    assert json.loads(result.out) == [
        {"email": "ada@example.com", "outcome": "imported", "detail": ""}
    ]
    assert "mailed a link" in result.err
    assert daily("subscribers", "add", "bo@example.com", "-l", "daily", "--confirmed").code == 0
    assert daily("subscribers", "add", "cy@example.com", "-l", "weekly").code == 0
    daily("subscribers", "suppress", "dee@example.com", "--reason", "bounce")
    assert daily("subscribers", "add", "dee@example.com", "-l", "daily").code == 1
    assert [str(message["To"]) for message in sent(db_project)] == ["ada@example.com"]


def test_add_with_a_transport_that_cannot_work_adds_nobody(db_project: Project, daily: Cli) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write('\n[transport]\ndefault = "sendgrid"\n')
    result = daily("subscribers", "add", "ada@example.com", "--list", "daily")
    assert result.code == 1 and "SENDGRID_API_KEY" in result.err
    assert daily("subscribers", "show", "ada@example.com").code == 1
    # With --confirmed no mail is needed, so the transport is not asked for.
    assert daily("subscribers", "add", "ada@example.com", "-l", "daily", "--confirmed").code == 0


def test_an_admin_confirms_on_the_command_line(db_project: Project, daily: Cli) -> None:
    daily("subscribers", "add", "ada@example.com", "--list", "daily")
    result = daily("subscribers", "confirm", "ADA@example.com", "--list", "daily")
    assert result.code == 0 and "Confirmed ADA@example.com on daily." in result.out
    assert statuses(daily, "ada@example.com") == {"daily": "confirmed"}
    again = daily("subscribers", "confirm", "ada@example.com", "--list", "daily")
    assert again.code == 0 and "Already confirmed" in again.out
    app = Mailer(db_project.settings(), environ={})
    try:
        assert consent(app, "ada@example.com") == [("daily", "confirm", "command line", None)]
    finally:
        app.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody@example.com", "--list", "daily"), "no subscriber nobody@example.com"),
        (("ada@example.com", "--list", "nosuch"), "no list named 'nosuch'"),
        (("ada@example.com", "--list", "weekly"), "is not on the list 'weekly'"),
        (("left@example.com", "--list", "daily"), "only they can subscribe again"),
        (("not an address", "--list", "daily"), "is not a valid email address"),
    ],
)
def test_confirm_refuses_what_it_cannot_do_and_changes_nothing(
    daily: Cli, args: tuple[str, ...], message: str
) -> None:
    daily("subscribers", "add", "ada@example.com", "left@example.com", "--list", "daily")
    daily("subscribers", "unsubscribe", "left@example.com", "--list", "daily")
    result = daily("subscribers", "confirm", *args)
    assert result.code == 1 and message in result.err
    assert statuses(daily, "ada@example.com") == {"daily": "unconfirmed"}
    assert statuses(daily, "left@example.com") == {"daily": "unsubscribed"}
