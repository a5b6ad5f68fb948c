"""The guards before a send: an issue the list got already (or will) is sent again only with
``--again``, an issue marked draft only with ``--allow-draft``; and ``mailer issues`` says
which lists each issue went to."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]
READERS = ("ada@example.com", "max@example.com")
DRAFT_FILE = "0088-ai-startups-draw-talent.md"


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Project:
    """A list of two confirmed readers; the outbox (the default transport) receives the mail."""
    assert cli("lists", "create", "weekly").code == 0
    for email in READERS:
        assert cli("subscribers", "add", email, "-l", "weekly", "--confirmed").code == 0
    return db_project


def mails(project: Project) -> int:
    return len(list((project.root / "var" / "outbox").rglob("*.eml")))


def send(cli: Cli, *args: str) -> CliResult:
    return cli("send", *args, "--list", "weekly", "--yes", "--json")


def test_a_second_send_is_refused_naming_the_first_and_again_sends_it(
    weekly: Project, cli: Cli
) -> None:
    first = send(cli, "87")
    assert first.code == 0, first.err
    campaign_id = json.loads(first.out)["id"]
    assert mails(weekly) == 2

    refused = send(cli, "87")
    assert refused.code == 1
    message = " ".join(refused.err.split())
    assert f"issue #87 already went to the list 'weekly': campaign {campaign_id} is sent" in (
        message
    )
    assert ", finished 20" in message
    assert "`--again` sends it anyway" in message
    assert mails(weekly) == 2  # nothing went out

    again = send(cli, "87", "--again")
    assert again.code == 0, again.err
    assert json.loads(again.out)["id"] != campaign_id
    assert mails(weekly) == 4


def test_a_scheduled_send_blocks_another_until_it_is_cancelled(weekly: Project, cli: Cli) -> None:
    scheduled = send(cli, "87", "--at", "+2h")
    assert scheduled.code == 0, scheduled.err
    campaign_id = json.loads(scheduled.out)["id"]

    for args in (("87",), ("87", "--at", "+3h")):
        refused = send(cli, *args)
        assert refused.code == 1
        message = " ".join(refused.err.split())
        assert f"issue #87 is already due to go to the list 'weekly': campaign {campaign_id}" in (
            message
        )
        assert "is scheduled for" in message
        assert "`--again`" in message
    assert mails(weekly) == 0

    assert cli("campaigns", "cancel", str(campaign_id)).code == 0
    sent = send(cli, "87")
    assert sent.code == 0, sent.err
    assert mails(weekly) == 2


def test_another_list_or_issue_is_not_blocked(weekly: Project, cli: Cli) -> None:
    assert send(cli, "87").code == 0
    assert cli("lists", "create", "daily").code == 0
    assert cli("subscribers", "add", READERS[0], "-l", "daily", "--confirmed").code == 0
    other = cli("send", "87", "--list", "daily", "--yes", "--json")
    assert other.code == 0, other.err
    assert mails(weekly) == 3


def test_a_draft_issue_is_sent_only_with_allow_draft(weekly: Project, cli: Cli) -> None:
    for args in (("88",), ("88", "--at", "+2h")):
        refused = send(cli, *args)
        assert refused.code == 1
        message = " ".join(refused.err.split())
        assert f"{DRAFT_FILE}:8: status: draft" in message
        assert "`--allow-draft` sends it anyway" in message
    assert mails(weekly) == 0

    allowed = send(cli, "88", "--allow-draft")
    assert allowed.code == 0, allowed.err
    assert mails(weekly) == 2


def test_an_issue_with_no_status_line_is_a_draft(weekly: Project, cli: Cli) -> None:
    text = (weekly.issues / "0087-postal-pact-and-ai-talent.md").read_text(encoding="utf-8")
    weekly.write_issue(
        "0090-no-status.md",
        text.replace("number: 87", "number: 90", 1).replace("status: ready\n", ""),
    )
    refused = send(cli, "90")
    assert refused.code == 1
    message = " ".join(refused.err.split())
    assert "0090-no-status.md: the front matter has no status line, so the issue is a draft" in (
        message
    )
    assert mails(weekly) == 0


def test_a_test_send_of_a_draft_goes_out(weekly: Project, cli: Cli) -> None:
    result = cli("test-send", "88", "--to", "editor@example.com")
    assert result.code == 0, result.err
    assert mails(weekly) == 1


def test_issues_lists_where_each_issue_went(
    weekly: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert send(cli, "87").code == 0
    assert cli("lists", "create", "daily").code == 0
    assert cli("subscribers", "add", READERS[0], "-l", "daily", "--confirmed").code == 0
    assert cli("send", "87", "--list", "daily", "--yes").code == 0
    assert send(cli, "88", "--at", "+2h", "--allow-draft").code == 0  # not sent yet

    listed = cli("issues", "--json")
    assert listed.code == 0, listed.err
    sent_to = {entry["number"]: entry["sent_to"] for entry in json.loads(listed.out)}
    assert sent_to[87] == ["daily", "weekly"]
    assert sent_to[88] == []

    monkeypatch.setenv("COLUMNS", "200")  # the table on one line a row
    table = cli("issues")
    assert table.code == 0, table.err
    row = next(line for line in table.out.splitlines() if "0087-" in line)
    assert "daily, weekly" in row
