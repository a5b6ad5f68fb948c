"""`mailer send` through the sendgrid transport to the emulator: batching, personalization,
the ledger, and bad input that must send nothing."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailer.emulator.server import EmulatorOptions, SendGridEmulator
from mailer.links import UNSUBSCRIBE, link_url
from mailer.signing import load_secret_key, peek
from tests.conftest import CliResult, Project
from tests.sending import (
    API_KEY,
    fill_list,
    ledger,
    received,
    running_emulator,
    summary,
    use_emulator,
)

Cli = Callable[..., CliResult]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator(EmulatorOptions(store=tmp_path / "store")) as pair:
        yield pair


@pytest.fixture
def sendgrid(
    db_project: Project,
    cli: Cli,
    emulator: tuple[SendGridEmulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    use_emulator(db_project, emulator[1])
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert cli("lists", "create", "weekly").code == 0
    return cli


def send_json(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("send", "87", "--list", "weekly", "--yes", "--json", *args)
    assert result.code == 0, result.err
    campaign: dict[str, object] = json.loads(result.out)
    return campaign


@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 2500])
def test_batches_of_at_most_1000_reach_everyone_once(
    sendgrid: Cli, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str], count: int
) -> None:
    emails = fill_list(project_engine, count)
    emulator[0].record.store = None  # thousands of .eml files would only slow this test
    campaign = send_json(sendgrid)
    assert campaign["status"] == "sent"
    assert campaign["counts"] == {
        "total": count, "waiting": 0, "pending": 0, "in_flight": 0, "sent": count,
        "failed": 0, "skipped": 0, "in_doubt": 0,
    }  # fmt: skip
    got = received(emulator[1])
    assert sorted(message["to"] for message in got) == sorted(emails)
    per_request = Counter(message["message_id"] for message in got)
    assert len(per_request) == math.ceil(count / 1000)
    assert max(per_request.values()) <= 1000
    stats = summary(emulator[1])
    assert stats["duplicates"] == 0 and "rejected" not in stats


def stored_messages(tmp_path: Path) -> dict[str, EmailMessage]:
    found = {}
    for path in sorted((tmp_path / "store").glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found[str(message["To"].addresses[0].addr_spec)] = message
    return found


def test_each_recipient_gets_their_own_links_headers_and_ids(
    sendgrid: Cli,
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    tmp_path: Path,
) -> None:
    fill_list(project_engine, 3)
    db_project.write_issue(
        "0090-hello.md",
        "---\nnumber: 90\ntitle: Hello\nsubject: Hello readers\npreheader: A short one.\n"
        "date: 2026-11-23\ntemplate: feature\nstatus: ready\n---\n"
        "Dear {{ subscriber.first_name }} in {{ subscriber.attributes.country }}, hello.\n",
    )
    assert sendgrid("subscribers", "add", "ada@example.com", "--list", "weekly",
                    "--name", "Ada <&> Lin", "--confirmed").code == 0  # fmt: skip
    result = sendgrid("send", "90", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    campaign_id = json.loads(result.out)["id"]
    messages = stored_messages(tmp_path)
    assert len(messages) == 4
    key = load_secret_key("MAILER_SECRET_KEY", db_project.root / "var")
    ids = {message["to"]: message["custom_args"] for message in received(emulator[1])}
    for email, message in messages.items():
        subscriber_id = int(ids[email]["mailer_subscriber"])
        link = link_url(
            "https://newsletter.example.com", key, UNSUBSCRIBE, subscriber_id, email, "weekly"
        )
        # The link carries the subscriber's id and the list, never the address.
        assert peek(link.rsplit("/", 1)[1]) == f"#{subscriber_id}\nweekly"
        assert message["List-Unsubscribe"] == f"<{link}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = (part.get_content() for part in message.iter_parts())
        assert link in text and link.replace("&", "&amp;") in html
        assert "@@" not in text + html + str(message["Subject"])
        assert ids[email]["mailer_campaign"] == str(campaign_id)
    ada = messages["ada@example.com"]
    text, html = (part.get_content() for part in ada.iter_parts())
    assert "Dear Ada in , hello." in text
    assert "Dear Ada in" in html and "&lt;&amp;&gt;" not in html  # first name only
    reader = messages["reader1@example.com"]
    assert "Dear Reader in CN, hello." in reader.get_body(("plain",)).get_content()
    statuses = ledger(project_engine, campaign_id)
    assert sorted(int(args["mailer_subscriber"]) for args in ids.values()) == sorted(statuses)


def test_only_confirmed_unsuppressed_members_matching_the_segment(
    sendgrid: Cli, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    fill_list(project_engine, 6)
    assert sendgrid("subscribers", "add", "new@example.com", "--list", "weekly").code == 0
    assert sendgrid("subscribers", "unsubscribe", "reader1@example.com", "-l", "weekly").code == 0
    assert (
        sendgrid("subscribers", "suppress", "reader3@example.com", "--reason", "bounce").code == 0
    )
    campaign = send_json(sendgrid, "--segment", 'country = "CN"')
    got = sorted(message["to"] for message in received(emulator[1]))
    assert got == ["reader5@example.com"]
    assert campaign["counts"]["total"] == 1  # type: ignore[index]
    assert campaign["segment"] == 'country = "CN"'


def test_asks_before_sending_and_says_how_many(
    sendgrid: Cli, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fill_list(project_engine, 2)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    result = sendgrid("send", "87", "--list", "weekly")
    assert result.code == 1
    assert "to 2 recipients on 'weekly' via sendgrid?" in result.out
    assert received(emulator[1]) == []
    assert json.loads(sendgrid("campaigns", "--json").out) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--list", "monthly"], "no list named 'monthly'"),
        (["--list", "empty"], "has no confirmed, unsuppressed subscribers"),
        (["--list", "weekly", "--transport", "pigeon"], "--transport 'pigeon'"),
        (["--list", "weekly", "--segment", "country = "], "segment"),
    ],
)
def test_bad_input_sends_nothing(
    sendgrid: Cli, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str],
    args: list[str], message: str,
) -> None:  # fmt: skip
    fill_list(project_engine, 2)
    assert sendgrid("lists", "create", "empty").code == 0
    result = sendgrid("send", "87", "--yes", *args)
    assert result.code != 0
    assert message in result.err
    assert received(emulator[1]) == []
    assert json.loads(sendgrid("campaigns", "--json").out) == []


def test_an_issue_with_errors_is_not_sent(
    sendgrid: Cli,
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
) -> None:
    fill_list(project_engine, 2)
    path = db_project.write_issue(
        "0091-broken.md",
        "---\nnumber: 91\ntitle: Broken\nsubject: Broken\npreheader: x\ndate: 2026-11-23\n"
        "template: feature\n---\nSee [this](javascript:alert(1)).\n",
    )
    result = sendgrid("send", "91", "--list", "weekly", "--yes")
    assert result.code == 1
    assert f"{path} has errors, so nothing was sent" in result.err
    assert received(emulator[1]) == []


def test_a_missing_api_key_sends_nothing(
    sendgrid: Cli, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fill_list(project_engine, 2)
    monkeypatch.delenv("SENDGRID_API_KEY")
    result = sendgrid("send", "87", "--list", "weekly", "--yes")
    assert result.code == 1
    assert "no API key; set $SENDGRID_API_KEY" in result.err
    assert json.loads(sendgrid("campaigns", "--json").out) == []


def test_test_send_marks_the_subject_and_keeps_out_of_the_ledger(
    sendgrid: Cli, tmp_path: Path, emulator: tuple[SendGridEmulator, str]
) -> None:
    result = sendgrid("test-send", "87", "--to", "editor@example.com", "--to", "chief@example.net")
    assert result.code == 0, result.err
    messages = stored_messages(tmp_path)
    assert sorted(messages) == ["chief@example.net", "editor@example.com"]
    subjects = {str(m["Subject"]) for m in messages.values()}
    assert all(s.startswith("[TEST] Tech in China #87") for s in subjects), subjects
    assert json.loads(sendgrid("campaigns", "--json").out) == []
    bad = sendgrid("test-send", "87", "--to", "nobody@")
    assert bad.code == 1 and "--to 'nobody@'" in bad.err
