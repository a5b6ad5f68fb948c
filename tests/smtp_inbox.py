"""An aiosmtpd server on loopback that keeps every message with its envelope, with or without
the SMTPUTF8 extension."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller

from tests.test_smtp_and_outbox import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    content: bytes
    smtputf8: bool


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                bool(envelope.smtp_utf8),
            )
        )
        return "250 Message accepted"


@contextmanager
def smtp_inbox(*, smtputf8: bool) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
