"""The smtp transport's connections, against a real aiosmtpd server on loopback that counts the
sessions it accepted: batches reuse a few connections, several threads share at most
``[transport.smtp] connections`` of them, and a connection the server dropped is replaced
with the batch's outcome told per recipient."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

from mailer.config import NewsletterSettings, SmtpSettings
from mailer.delivery.transports.base import BatchContent, BatchResult, Outgoing, send_now
from mailer.delivery.transports.smtp import SmtpTransport
from mailer.render.tokens import MergeTemplate, Recipient
from tests.smtp_inbox import Inbox
from tests.test_smtp_and_outbox import free_port

SENT_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CONTENT = BatchContent(
    subject="Issue 87",
    html=MergeTemplate("<p>Dear @@h.name@@</p>"),
    text=MergeTemplate("Dear @@t.name@@"),
    newsletter=NewsletterSettings(postal_address="1 Example Road"),
    list_name="weekly",
    campaign_id=7,
)
GATE_SECONDS = 30.0
"""Only so a pool that never opens enough connections fails instead of hanging."""


class SessionInbox(Inbox):
    """Keeps every message and every session (connection) that said EHLO. It can drop the
    connection while a given address's message is on the wire, answer 421 to one address,
    offer SMTPUTF8 only from a given session on, and hold the first messages until ``gate``
    sessions are sending at once."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[Any] = []
        self.drop_at: set[str] = set()
        self.smtputf8_from_session = 1
        self.gate = 0
        self.refuse_with_421 = ""
        self._waiting: set[Any] = set()
        self._opened = asyncio.Event()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if server not in self.sessions:
            self.sessions.append(server)
        if len(self.sessions) < self.smtputf8_from_session:
            return [line for line in responses if "SMTPUTF8" not in line]
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.refuse_with_421:
            return "421 4.3.2 too busy, closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_at.intersection(envelope.rcpt_tos):
            server.transport.close()
            return "451 never said"
        if not self._opened.is_set():
            self._waiting.add(server)
            if len(self._waiting) >= self.gate:
                self._opened.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._opened.wait(), GATE_SECONDS)
        return await super().handle_DATA(server, session, envelope)

    def arrived(self) -> Counter[str]:
        return Counter(address for message in self.messages for address in message.recipients)


@contextlib.contextmanager
def smtp_sessions() -> Iterator[tuple[SessionInbox, Controller]]:
    inbox = SessionInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    controller.start()
    try:
        yield inbox, controller
    finally:
        controller.stop()


def drop_idle(inbox: SessionInbox, controller: Controller) -> None:
    """The server hangs up on every connection, as one does with a client idle too long."""

    async def hang_up() -> None:
        for server in inbox.sessions:
            server.transport.close()

    asyncio.run_coroutine_threadsafe(hang_up(), controller.loop).result()


@contextlib.contextmanager
def smtp_transport(controller: Controller, connections: int = 4) -> Iterator[SmtpTransport]:
    settings = SmtpSettings(
        host="127.0.0.1", port=controller.port, security="none", connections=connections
    )
    transport = SmtpTransport(settings, "", clock=lambda: SENT_AT)
    try:
        yield transport
    finally:
        transport.close()


def batch(first: int, size: int, domain: str = "example.com") -> list[Outgoing]:
    return [
        Outgoing(
            key, Recipient(f"reader{key}@{domain}", f"Reader {key}", f"https://n.test/u/{key}")
        )
        for key in range(first, first + size)
    ]


def addresses(outgoing: list[Outgoing]) -> list[str]:
    return [item.recipient.email for item in outgoing]


def deliver_all_at_once(transport: SmtpTransport, batches: list[list[Outgoing]]) -> None:
    start = threading.Barrier(len(batches))

    def deliver(outgoing: list[Outgoing]) -> BatchResult:
        start.wait()
        return send_now(transport, CONTENT, outgoing)

    with ThreadPoolExecutor(len(batches)) as threads:
        results = list(threads.map(deliver, batches))
    assert [result.not_sent for result in results] == [0] * len(batches)


def test_batches_sent_one_after_another_share_one_connection() -> None:
    with smtp_sessions() as (inbox, controller), smtp_transport(controller) as transport:
        batches = [batch(1, 3), batch(4, 3), batch(7, 3)]
        for outgoing in batches:
            assert send_now(transport, CONTENT, outgoing) == BatchResult()
        assert len(inbox.sessions) == 1
    expected = [address for outgoing in batches for address in addresses(outgoing)]
    assert [message.recipients for message in inbox.messages] == [[a] for a in expected]


def test_eight_threads_share_three_connections_and_each_message_arrives_once() -> None:
    with (
        smtp_sessions() as (inbox, controller),
        smtp_transport(controller, connections=3) as transport,
    ):
        assert transport.concurrency == 3
        # The first messages wait at the server until three connections are sending at once.
        inbox.gate = 3
        first = [batch(1 + 5 * n, 5) for n in range(8)]
        deliver_all_at_once(transport, first)
        assert len(inbox.sessions) == 3
        second = [batch(101 + 5 * n, 5) for n in range(8)]
        deliver_all_at_once(transport, second)
        assert len(inbox.sessions) == 3
    every = [address for outgoing in first + second for address in addresses(outgoing)]
    assert inbox.arrived() == Counter(every)


def test_a_connection_dropped_mid_batch_leaves_one_in_doubt_and_is_replaced() -> None:
    with smtp_sessions() as (inbox, controller), smtp_transport(controller) as transport:
        outgoing = batch(1, 5)
        inbox.drop_at = {"reader3@example.com"}
        result = send_now(transport, CONTENT, outgoing)
        assert result.rejected == {}
        assert list(result.in_doubt) == [3]
        assert "connection lost" in result.in_doubt[3]
        assert sorted(result.unsent) == [4, 5]
        assert inbox.arrived() == Counter(["reader1@example.com", "reader2@example.com"])
        # The unsent go again, as the dispatcher sends them: over a new connection.
        assert send_now(transport, CONTENT, outgoing[3:]) == BatchResult()
        assert len(inbox.sessions) == 2
    assert inbox.arrived() == Counter(addresses(outgoing[:2] + outgoing[3:]))


def test_an_idle_connection_the_server_closed_is_replaced_before_the_batch() -> None:
    with smtp_sessions() as (inbox, controller), smtp_transport(controller) as transport:
        assert send_now(transport, CONTENT, batch(1, 2)) == BatchResult()
        drop_idle(inbox, controller)
        assert send_now(transport, CONTENT, batch(3, 2)) == BatchResult()
        assert len(inbox.sessions) == 2
    assert inbox.arrived() == Counter(addresses(batch(1, 4)))


def test_a_421_hang_up_fails_that_reader_and_leaves_the_rest_unsent_not_in_doubt() -> None:
    with smtp_sessions() as (inbox, controller), smtp_transport(controller) as transport:
        inbox.refuse_with_421 = "reader2@example.com"
        result = send_now(transport, CONTENT, batch(1, 4))
        assert list(result.rejected) == [2] and "421" in result.rejected[2]
        assert (result.in_doubt, sorted(result.unsent)) == ({}, [3, 4])
        assert send_now(transport, CONTENT, batch(3, 2)) == BatchResult()
        assert len(inbox.sessions) == 2
    assert inbox.arrived() == Counter(addresses(batch(1, 1) + batch(3, 2)))


def test_what_the_server_offers_is_known_per_connection() -> None:
    utf8_reader = Outgoing(50, Recipient("jörg@example.com", "Jörg", "https://n.test/u/50"))
    with smtp_sessions() as (inbox, controller), smtp_transport(controller) as transport:
        # The first session does not offer SMTPUTF8, the ones after it do.
        inbox.smtputf8_from_session = 2
        result = send_now(transport, CONTENT, [utf8_reader, *batch(1, 1)])
        assert list(result.rejected) == [50] and "SMTPUTF8" in result.rejected[50]
        drop_idle(inbox, controller)
        assert send_now(transport, CONTENT, [utf8_reader]) == BatchResult()
        assert len(inbox.sessions) == 2
    assert [(m.recipients, m.smtputf8) for m in inbox.messages] == [
        (["reader1@example.com"], False),
        (["jörg@example.com"], True),
    ]
