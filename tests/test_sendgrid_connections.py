"""The SendGrid transport keeps its connections alive and shares them between the threads that
deliver: one connection for requests one after another, never more than ``concurrency`` at
once, a connection the server closed while idle replaced without losing or doubling a batch,
and every answer (or lack of one) still mapped to the dispatcher's reaction."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest
import sendgrid

from mailer.config import NewsletterSettings, SendGridSettings
from mailer.delivery.transports.base import (
    AnswerLost,
    AuthenticationFailed,
    BadRequest,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    RateLimited,
    TemporaryFailure,
)
from mailer.delivery.transports.sendgrid import SendGridTransport
from mailer.emulator.server import EmulatorOptions, SendGridEmulator, serve_in_thread
from mailer.render.tokens import MergeTemplate, Recipient
from tests.scripted_http import Answer, resetting_server, scripted_server
from tests.sending import API_KEY, configure, received, running_emulator, summary

CONTENT = BatchContent(
    subject="Issue 87",
    html=MergeTemplate("<p>Dear @@h.name@@</p>"),
    text=MergeTemplate("Dear @@t.name@@"),
    newsletter=NewsletterSettings(),
    list_name="weekly",
    campaign_id=7,
)


def batch(first: int, size: int = 3) -> list[Outgoing]:
    return [
        Outgoing(key, Recipient(f"reader{key}@example.com", f"Reader {key}"))
        for key in range(first, first + size)
    ]


def emails(batches: list[list[Outgoing]]) -> list[str]:
    return [item.recipient.email for outgoing in batches for item in outgoing]


def once_each(url: str, expected: list[str]) -> None:
    got = Counter(message["to"] for message in received(url))
    assert sorted(got) == sorted(expected)
    assert set(got.values()) == {1}


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator() as pair:
        yield pair


@contextmanager
def transport(url: str, concurrency: int = 4, timeout: float = 5) -> Iterator[SendGridTransport]:
    settings = SendGridSettings(host=url, concurrency=concurrency, timeout=timeout)
    sender = SendGridTransport(settings, API_KEY)
    try:
        yield sender
    finally:
        sender.close()


def deliver(sender: SendGridTransport, outgoing: list[Outgoing]) -> BatchResult:
    return sender.deliver(sender.prepare(CONTENT, outgoing))


def test_requests_one_after_another_share_one_connection(
    emulator: tuple[SendGridEmulator, str],
) -> None:
    _, url = emulator
    batches = [batch(number * 3) for number in range(20)]
    with transport(url) as sender:
        ids = [deliver(sender, outgoing).message_id for outgoing in batches]
    assert None not in ids and len(set(ids)) == 20
    once_each(url, emails(batches))
    assert summary(url)["connections"] == 1


def test_threads_delivering_at_once_share_at_most_concurrency_connections() -> None:
    # Each answer takes a while, so the eight requests are on the wire together and a pool
    # that did not hold threads back would open eight connections.
    with running_emulator(EmulatorOptions(latency_seconds=0.3)) as (_, url):
        batches = [batch(number * 3) for number in range(8)]
        results: dict[int, BatchResult] = {}
        start = threading.Barrier(8)
        with transport(url, concurrency=4) as sender:
            prepared = [sender.prepare(CONTENT, outgoing) for outgoing in batches]

            def send(number: int) -> None:
                start.wait()
                results[number] = sender.deliver(prepared[number])

            threads = [threading.Thread(target=send, args=(number,)) for number in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(results) == list(range(8))
        assert all(result.message_id and result.not_sent == 0 for result in results.values())
        once_each(url, emails(batches))
        found = summary(url)
        assert found["accepted"] == 8
        assert 1 <= found["connections"] <= 4


def test_the_request_is_what_the_sendgrid_library_sends() -> None:
    answers = [Answer(202, headers={"X-Message-Id": f"id-{n}"}) for n in range(2)]
    with scripted_server(answers) as (server, url), transport(f"{url}/") as sender:
        first = sender.prepare(CONTENT, batch(1))
        assert sender.deliver(first).message_id == "id-0"
        assert deliver(sender, batch(4)).message_id == "id-1"
    request = server.received[0]
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert request.path == "/v3/mail/send"
    assert request.body == first.body
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["user-agent"] == f"sendgrid/{sendgrid.__version__};python"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["content-length"] == str(len(first.body))
    assert "connection" not in headers  # kept alive: no "Connection: close"
    assert [got.connection for got in server.received] == [1, 1]


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    server, url = serve_in_thread(SendGridEmulator(EmulatorOptions()))
    batches = [batch(number * 3) for number in range(6)]
    with transport(url) as sender:
        for outgoing in batches:
            assert deliver(sender, outgoing).message_id
            server.close_connections()
    try:
        once_each(url, emails(batches))
        assert summary(url)["connections"] == 6
    finally:
        server.shutdown()
        server.server_close()


def test_a_restarted_server_gets_the_next_batch_once() -> None:
    first = SendGridEmulator(EmulatorOptions())
    server, url = serve_in_thread(first)
    port = server.server_address[1]
    with transport(url) as sender:
        assert deliver(sender, batch(1)).message_id
        server.shutdown()
        server.server_close()  # closes the kept-alive connection, as a stopped process does
        second = SendGridEmulator(EmulatorOptions())
        server, _ = serve_in_thread(second, port=port)
        try:
            assert deliver(sender, batch(4)).message_id
            once_each(url, emails([batch(4)]))
            assert summary(url)["connections"] == 1
        finally:
            server.shutdown()
            server.server_close()
    assert sorted(message["to"] for message in first.record.messages()) == emails([batch(1)])


REFUSED = orjson.dumps({"errors": [{"field": "personalizations.0.to.0.email", "message": "no"}]})
ABOUT_CONTENT = orjson.dumps({"errors": [{"field": "from", "message": "missing"}]})


@pytest.mark.parametrize(
    ("answer", "error", "names_recipients"),
    [
        (Answer(401), AuthenticationFailed, None),
        (Answer(403), AuthenticationFailed, None),
        (Answer(500), TemporaryFailure, None),
        (Answer(503), TemporaryFailure, None),
        (Answer(400, REFUSED), BadRequest, True),
        (Answer(400, ABOUT_CONTENT), BadRequest, False),
        (Answer(413), BadRequest, True),
        (Answer(404), BadRequest, False),
    ],
)
def test_each_answer_maps_to_its_reaction_and_the_connection_stays(
    answer: Answer, error: type[Exception], names_recipients: bool | None
) -> None:
    with scripted_server([answer, Answer(202)]) as (server, url), transport(url) as sender:
        with pytest.raises(error) as raised:
            deliver(sender, batch(1))
        assert deliver(sender, batch(4)).not_sent == 0
    if names_recipients is not None:
        assert isinstance(raised.value, BadRequest)
        assert raised.value.names_recipients is names_recipients
    assert not isinstance(raised.value, RateLimited)
    assert [got.connection for got in server.received] == [1, 1]


def test_a_429_says_when_to_try_again() -> None:
    limited = Answer(429, headers={"X-RateLimit-Reset": "0"})
    with scripted_server([limited, Answer(429), Answer(202)]) as (_, url), transport(url) as sender:
        with pytest.raises(RateLimited) as with_reset:
            deliver(sender, batch(1))
        with pytest.raises(RateLimited) as without:
            deliver(sender, batch(1))
        assert deliver(sender, batch(1)).not_sent == 0
    assert with_reset.value.retry_after == pytest.approx(0.05)  # the reset has passed
    assert without.value.retry_after is None


@pytest.mark.parametrize("fault", ["drop", "timeout"])
def test_an_answer_lost_is_in_doubt_and_the_next_batch_goes_out_once(
    emulator: tuple[SendGridEmulator, str], fault: str
) -> None:
    simulator, url = emulator
    with transport(url, timeout=0.5) as sender:
        assert deliver(sender, batch(1)).message_id  # a kept-alive connection to lose
        configure(simulator, fail_rate=1.0, faults=(fault,), stall_seconds=1.5)
        with pytest.raises(AnswerLost, match="may have been accepted"):
            deliver(sender, batch(4))
        configure(simulator, fail_rate=0.0)
        assert deliver(sender, batch(7)).message_id
    once_each(url, emails([batch(1), batch(7)]))
    assert summary(url)[f"fault_{fault}"] == 1


def test_a_server_that_cannot_be_reached_is_a_temporary_failure() -> None:
    unreachable = "cannot reach SendGrid at http://127.0.0.1:9"
    with transport("http://127.0.0.1:9") as sender, pytest.raises(TemporaryFailure) as raised:
        deliver(sender, batch(1))
    assert unreachable in str(raised.value)


def test_a_reset_while_sending_the_body_is_a_temporary_failure_not_an_answer_lost() -> None:
    # More than the sockets' buffers on both sides hold, so the reset comes mid-upload.
    request = PreparedRequest(CONTENT, batch(1), b" " * (32 << 20))
    with (
        resetting_server() as url,
        transport(url) as sender,
        pytest.raises(TemporaryFailure, match="cannot reach SendGrid") as raised,
    ):
        sender.deliver(request)
    assert not isinstance(raised.value, AnswerLost)
