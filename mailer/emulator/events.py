"""The events SendGrid's Event Webhook would post for an accepted /v3/mail/send request, in
the documented shapes (Event Webhook Reference): one ``processed`` for every recipient, then by
the configured rates ``dropped``, ``deferred``, ``bounce`` (type ``bounce``, permanent, or
``blocked``, temporary), ``delivered``, and for delivered mail ``open``, ``click`` and
``spamreport``.

Every event carries ``email``, ``timestamp``, ``event``, ``sg_event_id``, ``sg_message_id``
(the request's X-Message-Id, a dot, then a part naming the recipient), ``smtp-id``,
``category`` when the request named categories (a string for one, an array for several) and
the request's custom_args, with the personalization's over them, as top-level keys.

Which events a recipient gets is decided by dice cast from a keyed hash, not a shared random
stream: the emulator takes requests on several threads in no fixed order, and the outcome must
still be the same for the same seed. Delivery dice are keyed by the address alone (an address
that bounces goes on bouncing, as a dead mailbox does); engagement dice also by the request's
subject and shared custom_args, so each campaign is opened afresh.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

Event = dict[str, Any]
Links = Callable[[], list[str]]
MakeEvent = Callable[..., Event]

DROP_REASONS = ("Bounced Address", "Unsubscribed Address", "Spam Reporting Address", "Invalid")
# (status, reason, bounce_classification): SendGrid's classifications, with replies like
# the ones receiving servers give for each.
PERMANENT_BOUNCES = (
    ("5.1.1", "550 5.1.1 The email account that you tried to reach does not exist",
     "Invalid Address"),
    ("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled",
     "Mailbox Unavailable"),
    ("5.7.1", "550 5.7.1 Message rejected: content looks like spam", "Content"),
    ("5.0.0", "550 5.0.0 Requested action not taken", "Unclassified"),
)  # fmt: skip
TEMPORARY_BLOCKS = (
    ("4.7.0", "421 4.7.0 IP not in good standing: try again later", "Reputation"),
    ("4.7.28", "421 4.7.28 Unusual rate of mail from your IP: rate limited",
     "Frequency or Volume"),
    ("4.4.2", "421 4.4.2 Connection dropped during transfer", "Technical"),
    ("4.2.2", "452 4.2.2 The recipient's mailbox is full", "Mailbox Unavailable"),
    ("4.7.1", "450 4.7.1 Message content temporarily refused", "Content"),
    ("4.0.0", "451 4.0.0 Temporary failure", "Unclassified"),
)  # fmt: skip
DEFERRAL_RESPONSES = (
    "451 4.7.1 Greylisted, please try again later",
    "421 4.7.0 Try again later, closing connection",
    "450 4.2.1 The user you are trying to contact is receiving mail too quickly",
)
SENDING_IP = "192.0.2.25"  # documentation addresses (RFC 5737): never a real host
READER_IPS = ("198.51.100.7", "198.51.100.42", "203.0.113.9")
READER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/15E148",
)
# What Apple Mail Privacy Protection's proxy sends when it fetches every image on arrival.
MACHINE_AGENT = "Mozilla/5.0"
HREF = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


@dataclass(frozen=True)
class EventRates:
    """Shares, each between 0 and 1. ``drop``, ``bounce`` and ``blocked`` are shares of all
    recipients (their sum at most 1); ``delivered`` is the share of the rest that is delivered
    (the others stay deferred, with no final event yet); ``deferred`` the share of recipients
    not dropped who are deferred before their outcome; ``open``, ``click`` and ``spam`` shares
    of delivered recipients; ``machine_open`` the share of opens made by a machine."""

    delivered: float = 1.0
    bounce: float = 0.02
    blocked: float = 0.01
    deferred: float = 0.05
    drop: float = 0.005
    open: float = 0.4
    machine_open: float = 0.3
    click: float = 0.1
    spam: float = 0.001

    def problems(self) -> list[str]:
        found = [
            f"{item.name} rate {getattr(self, item.name)} is not between 0 and 1"
            for item in fields(self)
            if not 0.0 <= getattr(self, item.name) <= 1.0
        ]
        if self.drop + self.bounce + self.blocked > 1.0:
            found.append("drop, bounce and blocked rates add up to more than 1")
        return found


def _dice(key: bytes, text: str) -> tuple[float, ...]:
    """Sixteen independent uniform numbers in [0, 1) from one keyed hash of ``text``."""
    digest = hashlib.blake2b(text.encode(), key=key, digest_size=64).digest()
    return tuple(value / 4294967296.0 for value in struct.unpack(">16I", digest))


def _pick(options: tuple[Any, ...], die: float) -> Any:
    return options[int(die * len(options))]


def event_id(message_id: str, recipient: int, serial: int) -> str:
    """Unique across runs (the X-Message-Id is random), like SendGrid's base64 ids."""
    digest = hashlib.blake2b(f"{message_id}.{recipient}.{serial}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).decode()


def links_in(html_text: str) -> list[str]:
    """The http(s) links of a message's HTML, in order: what a reader could click."""
    found = []
    for match in HREF.finditer(html_text):
        url = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        url = url.strip()
        if url.lower().startswith(("http://", "https://")):
            found.append(url)
    return found


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace(key, value)
    return text


class EventMaker:
    """Makes the events of accepted requests; cheap per recipient (two hashes and a few
    dicts), and it reads a message's HTML only for the recipients who click."""

    def __init__(self, rates: EventRates, seed: int) -> None:
        self.rates = rates
        self._key = hashlib.blake2b(str(seed).encode(), digest_size=32).digest()

    def for_request(
        self, body: dict[str, Any], message_id: str, accepted_at: float
    ) -> Iterator[Event]:
        shared_args = body.get("custom_args") or {}
        categories = body.get("categories") or []
        common: Event = {"smtp-id": f"<{message_id}@ismtpd-emulator>"}
        if categories:
            common["category"] = categories[0] if len(categories) == 1 else list(categories)
        group = (body.get("asm") or {}).get("group_id")
        if group is not None:
            common["asm_group_id"] = group
        campaign = f"{body.get('subject') or ''}\0{sorted(shared_args.items())}"
        html_content = next(
            (item["value"] for item in body["content"] if item.get("type") == "text/html"), ""
        )
        recipient = 0
        for personalization in body["personalizations"]:
            args = {**shared_args, **(personalization.get("custom_args") or {})}
            for to in (
                *personalization["to"],
                *(personalization.get("cc") or ()),
                *(personalization.get("bcc") or ()),
            ):

                def links(personalization: dict[str, Any] = personalization) -> list[str]:
                    substitutions = personalization.get("substitutions") or {}
                    return links_in(_substitute(html_content, substitutions))

                base = {
                    **args,
                    **common,
                    "email": str(to["email"]),
                    "sg_message_id": f"{message_id}.emulator{recipient:04d}.0",
                }
                yield from self._recipient(
                    base, message_id, recipient, int(accepted_at), campaign, links
                )
                recipient += 1

    def _recipient(
        self,
        base: Event,
        message_id: str,
        recipient: int,
        start: int,
        campaign: str,
        links: Links,
    ) -> Iterator[Event]:
        rates = self.rates
        address = base["email"].lower()
        fate = _dice(self._key, address)
        serial = 0

        def event(name: str, at: int, **extra: Any) -> Event:
            nonlocal serial
            serial += 1
            return {
                **base,
                "timestamp": at,
                "event": name,
                "sg_event_id": event_id(message_id, recipient, serial),
                **extra,
            }

        yield event("processed", start)
        if fate[0] < rates.drop:
            reason = _pick(DROP_REASONS, fate[1])
            yield event("dropped", start, reason=reason, status="5.0.0")
            return
        at = start + 1
        if fate[2] < rates.deferred:
            for attempt in range(1, 2 + int(fate[3] * 3)):
                response = _pick(DEFERRAL_RESPONSES, fate[4])
                yield event("deferred", at, attempt=str(attempt), response=response, ip=SENDING_IP)
                at += 5 * attempt
        outcome = fate[0] - rates.drop
        if outcome < rates.bounce + rates.blocked:
            permanent = outcome < rates.bounce
            status, reason, classification = _pick(
                PERMANENT_BOUNCES if permanent else TEMPORARY_BLOCKS, fate[5]
            )
            yield event(
                "bounce", at, type="bounce" if permanent else "blocked", status=status,
                reason=reason, bounce_classification=classification, ip=SENDING_IP, tls=1,
            )  # fmt: skip
            return
        if fate[6] >= rates.delivered:
            return  # still being retried: SendGrid keeps trying deferred mail for 72 hours
        yield event("delivered", at, response="250 2.0.0 OK", ip=SENDING_IP, tls=1)
        yield from self._engagement(event, at, _dice(self._key, f"{address}\0{campaign}"), links)

    def _engagement(
        self, event: MakeEvent, delivered_at: int, dice: tuple[float, ...], links: Links
    ) -> Iterator[Event]:
        rates = self.rates
        reader = {"ip": _pick(READER_IPS, dice[0]), "useragent": _pick(READER_AGENTS, dice[1])}
        if dice[2] < rates.open:
            if dice[3] < rates.machine_open:
                yield event(
                    "open", delivered_at + 1, sg_machine_open=True,
                    ip="17.58.0.1", useragent=MACHINE_AGENT,
                )  # fmt: skip
            else:
                yield event("open", delivered_at + 5 + int(dice[4] * 600),
                            sg_machine_open=False, **reader)  # fmt: skip
        if dice[5] < rates.click:
            found = links()
            if found:
                index = int(dice[6] * len(found))
                yield event(
                    "click", delivered_at + 30 + int(dice[7] * 900), url=found[index],
                    url_offset={"index": index, "type": "html"}, **reader,
                )  # fmt: skip
        if dice[8] < rates.spam:
            yield event("spamreport", delivered_at + 60 + int(dice[9] * 3600))
