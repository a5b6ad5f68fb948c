"""The smtp transport against a real aiosmtpd server on loopback, and the outbox."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import CliResult, Project
from tests.sending import fill_list

Cli = Callable[..., CliResult]
REFUSED = "reader3@example.com"


class Inbox:
    """Keeps every message; refuses one address the way a mail server refuses a mailbox."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_smtp_sends_each_message_and_fails_only_the_refused_mailbox(
    db_project: Project, cli: Cli, project_engine: sa.Engine, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')
    assert cli("lists", "create", "weekly").code == 0
    emails = fill_list(project_engine, 5)
    result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)["counts"]
    assert (counts["sent"], counts["failed"]) == (4, 1)
    assert sorted(to[0] for to, _ in inbox.messages) == sorted(e for e in emails if e != REFUSED)
    for to, raw in inbox.messages:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert message["To"].addresses[0].addr_spec == to[0]
        assert str(message["List-Unsubscribe"]).startswith("<https://newsletter.example.com/")
        assert to[0] in message.get_body(("plain",)).get_content()
    shown = cli("subscribers", "show", REFUSED, "--json")
    assert shown.code == 0


def test_an_unreachable_smtp_server_pauses_the_campaign(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(
            f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\n'
            "[delivery]\nretry_attempts = 2\nretry_base_seconds = 0.01\n"
        )
    assert cli("lists", "create", "weekly").code == 0
    fill_list(project_engine, 2)
    result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    assert result.code == 1
    campaign = json.loads(result.out)
    assert campaign["status"] == "paused" and "cannot reach the SMTP server" in campaign["message"]


def test_the_outbox_writes_one_file_per_recipient_and_a_rerun_adds_none(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    emails = fill_list(project_engine, 3)
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert campaign["transport"] == "outbox"
    folder = db_project.root / "var" / "outbox" / f"campaign-{campaign['id']}"
    files = sorted(folder.glob("*.eml"))
    found = sorted(
        BytesParser(policy=policy.default)
        .parsebytes(path.read_bytes())["To"]
        .addresses[0]
        .addr_spec
        for path in files
    )
    assert found == sorted(emails)
    assert not list(folder.glob("*.partial"))
