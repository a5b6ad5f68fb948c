"""The SendGrid emulator posts the events SendGrid's Event Webhook would: signed, batched at
768 KB, retried with the same bytes, one ``processed`` per recipient and the follow-ups its
rates say, with custom_args at the top level and sg_message_id under the X-Message-Id."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest

from mailer.emulator.event_poster import EventPoster, PosterOptions
from mailer.emulator.events import EventMaker, EventRates
from mailer.emulator.server import EmulatorOptions, SendGridEmulator, serve_in_thread
from mailer.emulator.webhook_key import WebhookKey
from tests.event_receiver import Receiver, running_receiver
from tests.sending import API_KEY

FOLLOW_UPS = {"dropped", "deferred", "bounce", "delivered", "open", "click", "spamreport"}
BUSY_RATES = EventRates(
    delivered=0.9,
    bounce=0.1,
    blocked=0.1,
    deferred=0.2,
    drop=0.1,
    open=0.5,
    machine_open=0.5,
    click=0.5,
    spam=0.1,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def posting_emulator(
    key: WebhookKey, statuses: list[int] | None = None, seed: int = 7
) -> Iterator[tuple[Receiver, EventPoster, str, Clock]]:
    """A receiver, and an emulator on loopback posting to it whose poster the test drives
    (no thread of its own)."""
    with (
        running_receiver(key.public_base64(), statuses) as receiver,
        _emulator(receiver, key, seed) as (poster, url, clock),
    ):
        yield receiver, poster, url, clock


@contextmanager
def _emulator(
    receiver: Receiver | str, key: WebhookKey, seed: int = 7, log: list[str] | None = None
) -> Iterator[tuple[EventPoster, str, Clock]]:
    clock = Clock()
    target = receiver if isinstance(receiver, str) else receiver.url
    poster = EventPoster(
        PosterOptions(
            target, backoff_first_seconds=10.0, retry_for_seconds=3600.0, quiet_seconds=0.0
        ),
        key,
        EventMaker(BUSY_RATES, seed),
        clock=clock,
        log=(log if log is not None else []).append,
    )
    server, url = serve_in_thread(SendGridEmulator(EmulatorOptions(), poster))
    try:
        yield poster, url, clock
    finally:
        server.shutdown()
        server.server_close()


def mail_send(url: str, body: dict[str, Any]) -> str:
    """POSTs a request; returns its X-Message-Id."""
    request = urllib.request.Request(
        f"{url}/v3/mail/send",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return str(response.headers["X-Message-Id"])


def campaign(count: int, start: int = 0, extra_args: int = 0) -> dict[str, Any]:
    return {
        "personalizations": [
            {
                "to": [{"email": f"reader{number}@example.com"}],
                "substitutions": {"@@token@@": f"t{number}"},
                "custom_args": {"mailer_subscriber": str(number), "pad": "x" * extra_args},
            }
            for number in range(start, start + count)
        ],
        "from": {"email": "news@example.com"},
        "subject": "Issue 87",
        "content": [
            {"type": "text/plain", "value": "Read https://n.example.com/87"},
            {
                "type": "text/html",
                "value": (
                    '<p><a href="https://n.example.com/87?r=@@token@@&amp;x=1">Read</a> '
                    "<a class='u' href='https://n.example.com/u/@@token@@'>Unsubscribe</a> "
                    '<a href="mailto:news@example.com">Write</a></p>'
                ),
            },
        ],
        "categories": ["weekly"],
        "custom_args": {"mailer_campaign": "12"},
    }


def inspect(url: str, what: str) -> Any:
    with urllib.request.urlopen(f"{url}/_emulator/{what}") as response:
        return json.loads(response.read())


def by_recipient(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        found[event["email"]].append(event)
    return found


def test_every_recipient_gets_one_processed_and_its_follow_ups() -> None:
    key = WebhookKey.generate()
    with posting_emulator(key) as (receiver, poster, url, _):
        message_ids = [mail_send(url, campaign(250, start)) for start in (0, 250)]
        poster.post_due(final=True)
        stored = receiver.stored
        assert inspect(url, "events") == stored
        assert inspect(url, "events?to=reader7@example.com") == [
            event for event in stored if event["email"] == "reader7@example.com"
        ]
    assert receiver.posts and all(post.verified for post in receiver.posts)
    assert len({event["sg_event_id"] for event in stored}) == len(stored)
    recipients = by_recipient(stored)
    assert len(recipients) == 500
    kinds: Counter[str] = Counter()
    for number in range(500):
        email = f"reader{number}@example.com"
        events = recipients[email]
        names = [event["event"] for event in events]
        kinds.update(names)
        assert names[0] == "processed" and names.count("processed") == 1
        assert set(names[1:]) <= FOLLOW_UPS
        if "dropped" in names:
            assert names == ["processed", "dropped"]
        if "bounce" in names:
            assert names[-1] == "bounce" and "delivered" not in names
        if {"open", "click", "spamreport"} & set(names):
            assert "delivered" in names
        for event in events:
            assert event["sg_message_id"].split(".")[0] == message_ids[number // 250]
            assert event["mailer_campaign"] == "12" and event["mailer_subscriber"] == str(number)
            assert event["category"] == "weekly" and isinstance(event["timestamp"], int)
            assert event["smtp-id"]
            if event["event"] == "click":
                # On a link of this reader's own message, after its substitutions.
                assert event["url"] in (
                    f"https://n.example.com/87?r=t{number}&x=1",
                    f"https://n.example.com/u/t{number}",
                )
            if event["event"] == "bounce":
                assert event["type"] in ("bounce", "blocked")
                assert event["status"][0] == ("5" if event["type"] == "bounce" else "4")
                assert event["bounce_classification"] in (
                    "Invalid Address",
                    "Technical",
                    "Content",
                    "Reputation",
                    "Frequency or Volume",
                    "Mailbox Unavailable",
                    "Unclassified",
                )
            if event["event"] == "dropped":
                assert event["reason"] in (
                    "Bounced Address",
                    "Unsubscribed Address",
                    "Spam Reporting Address",
                    "Invalid",
                )
            if event["event"] == "deferred":
                assert event["attempt"].isdigit() and event["response"][0] == "4"
    # The rates hold roughly (10% drops of 500 is 50; seeded, so the same every run).
    assert 30 <= kinds["dropped"] <= 70
    assert 60 <= kinds["bounce"] <= 140
    assert 150 <= kinds["delivered"] <= 350
    opens = [event for event in stored if event["event"] == "open"]
    machine = sum(event["sg_machine_open"] for event in opens)
    assert 0.3 * len(opens) <= machine <= 0.7 * len(opens)
    assert kinds["click"] > 50 and kinds["spamreport"] > 5


def outcome(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted(
        (event["email"], event["event"], str(event.get("url") or event.get("reason") or ""))
        for event in events
    )


def test_a_request_naming_a_template_instead_of_content_has_its_events() -> None:
    body = campaign(40)
    del body["content"]
    body["template_id"] = "d-0123456789abcdef"
    with posting_emulator(WebhookKey.generate()) as (receiver, poster, url, _):
        mail_send(url, body)
        poster.post_due(final=True)
    assert len(by_recipient(receiver.stored)) == 40
    assert not [event for event in receiver.stored if event["event"] == "click"]  # no links


def test_the_same_seed_gives_the_same_events() -> None:
    key = WebhookKey.generate()
    runs = []
    for _ in range(2):
        with posting_emulator(key, seed=3) as (receiver, poster, url, _):
            mail_send(url, campaign(200))
            poster.post_due(final=True)
            runs.append(receiver.stored)
    assert outcome(runs[0]) == outcome(runs[1])
    # ...under new ids: a receiver deduplicating on sg_event_id keeps both runs.
    assert not {event["sg_event_id"] for event in runs[0]} & {e["sg_event_id"] for e in runs[1]}


def test_a_refused_post_is_sent_again_with_the_same_bytes() -> None:
    key = WebhookKey.generate()
    with posting_emulator(key, statuses=[500, 503]) as (receiver, poster, url, clock):
        mail_send(url, campaign(100))
        poster.post_due(final=True)
        assert [post.status for post in receiver.posts] == [500]
        poster.post_due()  # not yet: the batch waits its backoff
        assert len(receiver.posts) == 1
        clock.now += 10
        poster.post_due()
        clock.now += 19
        poster.post_due()  # the second wait is twice the first
        assert len(receiver.posts) == 2
        clock.now += 1
        poster.post_due()
        assert [post.status for post in receiver.posts] == [500, 503, 200]
        summary = inspect(url, "summary")["events"]
    bodies = {post.body for post in receiver.posts}
    assert len(bodies) == 1 and all(post.verified for post in receiver.posts)
    assert len({event["sg_event_id"] for event in receiver.stored}) == len(receiver.stored)
    assert len(by_recipient(receiver.stored)) == 100
    assert summary["posted"] == len(receiver.stored) and summary["failed_attempts"] == 2
    assert summary["waiting"] == 0 and summary["abandoned"] == 0


def test_a_receiver_that_is_down_gets_the_same_bytes_once_it_is_up(free_port: int) -> None:
    key = WebhookKey.generate()
    url_when_up = f"http://127.0.0.1:{free_port}/webhooks/sendgrid"
    with _emulator(url_when_up, key) as (poster, url, clock):
        mail_send(url, campaign(30))
        poster.post_due(final=True)  # nobody listens yet
        assert poster.summary()["failed_attempts"] == 1 and poster.summary()["waiting"] > 0
        with running_receiver(key.public_base64(), port=free_port) as receiver:
            clock.now += 10
            poster.post_due()
        events = inspect(url, "events")
    assert len(receiver.posts) == 1 and receiver.posts[0].verified
    assert receiver.stored == events and len(by_recipient(events)) == 30


def test_a_batch_refused_past_the_retry_period_is_given_up_loudly() -> None:
    key = WebhookKey.generate()
    log: list[str] = []
    with (
        running_receiver(key.public_base64(), statuses=[500] * 20) as receiver,
        _emulator(receiver, key, log=log) as (poster, url, clock),
    ):
        mail_send(url, campaign(5))
        poster.post_due(final=True)
        for _ in range(10):
            clock.now += 600
            poster.post_due()
        summary = inspect(url, "summary")["events"]
    made = sum(summary["generated"].values())
    assert summary["abandoned"] == made and summary["posted"] == summary["waiting"] == 0
    assert log == [
        f"Gave up on a batch of {made} events after 7 attempts over 3600 s: "
        "the receiver answered 500."
    ]


def test_events_are_made_once_requests_stop_coming_or_too_many_wait() -> None:
    key = WebhookKey.generate()
    clock = Clock()
    options = PosterOptions("http://127.0.0.1:1/", quiet_seconds=0.2, max_waiting_recipients=50)
    poster = EventPoster(options, key, EventMaker(BUSY_RATES, 1), clock=clock, log=print)
    poster.accepted(orjson.dumps(campaign(40)), 40, "first", clock.now)
    poster.post_due()
    assert poster.summary()["requests_waiting"] == 1  # a send is under way: not yet
    poster.accepted(orjson.dumps(campaign(40, start=40)), 40, "second", clock.now)
    poster.post_due()
    # Eighty recipients wait, more than fifty: the first request's events are made.
    assert poster.summary()["requests_waiting"] == 1 and poster.summary()["waiting"] > 40
    clock.now += 0.2
    poster.post_due()
    assert poster.summary()["requests_waiting"] == 0


def test_a_batch_is_cut_before_it_passes_768_kb() -> None:
    key = WebhookKey.generate()
    with posting_emulator(key) as (receiver, poster, url, _):
        # About 2 KB of custom_args a recipient: more than 768 KB of events.
        mail_send(url, campaign(1000, extra_args=2000))
        poster.post_due()  # the interval has not passed: only full batches go out
        full = list(receiver.posts)
        poster.post_due(final=True)
    assert full and all(768 * 1024 - 5000 < len(post.body) <= 768 * 1024 for post in full)
    assert all(len(post.body) <= 768 * 1024 for post in receiver.posts)
    assert len(by_recipient(receiver.stored)) == 1000
