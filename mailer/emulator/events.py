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

import binascii
import hashlib
import html
import re
import struct
from dataclasses import dataclass, fields
from typing import Any

Event = dict[str, Any]

DROP_REASONS = ("Bounced Address", "Unsubscribed Address", "Spam Reporting Address", "Invalid")
# (status, reason, bounce_classification): SendGrid's classifications, with replies like
# the ones receiving servers give for each.
PERMANENT_BOUNCES = (
    (
        "5.1.1",
        "550 5.1.1 The email account that you tried to reach does not exist",
        "Invalid Address",
    ),
    (
        "5.2.1",
        "550 5.2.1 The email account that you tried to reach is disabled",
        "Mailbox Unavailable",
    ),
    ("5.7.1", "550 5.7.1 Message rejected: content looks like spam", "Content"),
    ("5.0.0", "550 5.0.0 Requested action not taken", "Unclassified"),
)
TEMPORARY_BLOCKS = (
    ("4.7.0", "421 4.7.0 IP not in good standing: try again later", "Reputation"),
    ("4.7.28", "421 4.7.28 Unusual rate of mail from your IP: rate limited", "Frequency or Volume"),
    ("4.4.2", "421 4.4.2 Connection dropped during transfer", "Technical"),
    ("4.2.2", "452 4.2.2 The recipient's mailbox is full", "Mailbox Unavailable"),
    ("4.7.1", "450 4.7.1 Message content temporarily refused", "Content"),
    ("4.0.0", "451 4.0.0 Temporary failure", "Unclassified"),
)
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


def _dice(key: bytes, text: str) -> tuple[int, ...]:
    """Sixteen independent uniform numbers below 2**32 from one keyed hash of ``text``: a
    die ``d`` falls under a rate ``r`` when ``d < r * 2**32`` (see _Thresholds)."""
    digest = hashlib.blake2b(text.encode(), key=key, digest_size=64).digest()
    return struct.unpack(">16I", digest)


def _pick(options: tuple[Any, ...], die: int) -> Any:
    return options[(die * len(options)) >> 32]


def _scaled(die: int, most: int) -> int:
    """A die as a whole number from 0 to ``most - 1``."""
    return (die * most) >> 32


class EventIds:
    """sg_event_id values for one recipient's events: unique across runs (the X-Message-Id
    is random), shaped like SendGrid's (base64 of 16 bytes). One hash gives four."""

    def __init__(self, message_id: str, recipient: int) -> None:
        self._seed = f"{message_id}.{recipient}".encode()
        self._digest = hashlib.blake2b(self._seed, digest_size=64).digest()
        self._next = 0

    def __call__(self) -> str:
        serial, self._next = self._next, self._next + 1
        if serial >= 4:
            more = self._seed + b".%d" % serial
            return binascii.b2a_base64(
                hashlib.blake2b(more, digest_size=16).digest(), newline=False
            ).decode()
        chunk = self._digest[16 * serial : 16 * serial + 16]
        return binascii.b2a_base64(chunk, newline=False).decode()


def link_targets(html_text: str) -> list[str]:
    """The href values of a message's HTML as written (entities not yet decoded)."""
    return [
        match.group(1) if match.group(1) is not None else match.group(2)
        for match in HREF.finditer(html_text)
    ]


def clickable(targets: list[str], substitutions: dict[str, str]) -> list[str]:
    """The http(s) links one recipient's message holds, in order: the targets with that
    personalization's substitutions made, then decoded. (Substituting in the targets alone,
    not in the whole HTML, spares reading a 30 KB page per click; it differs only if a
    substitution value held markup, which a link never does.)"""
    found = []
    for target in targets:
        url = html.unescape(_substitute(target, substitutions)).strip()
        if url.lower().startswith(("http://", "https://")):
            found.append(url)
    return found


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace(key, value)
    return text


class _Targets:
    """A request's link targets, found once and only if somebody clicks."""

    def __init__(self, html_content: str) -> None:
        self._html = html_content
        self._found: list[str] | None = None

    def get(self) -> list[str]:
        if self._found is None:
            self._found = link_targets(self._html)
        return self._found


class _Thresholds:
    """The rates as whole numbers a die (below 2**32) is compared with."""

    def __init__(self, rates: EventRates) -> None:
        scale = float(1 << 32)
        self.drop = int(rates.drop * scale)
        self.failed = int((rates.drop + rates.bounce + rates.blocked) * scale)
        self.bounce = int((rates.drop + rates.bounce) * scale)
        self.deferred = int(rates.deferred * scale)
        self.delivered = int(rates.delivered * scale)
        self.open = int(rates.open * scale)
        self.machine_open = int(rates.machine_open * scale)
        self.click = int(rates.click * scale)
        self.spam = int(rates.spam * scale)


class EventMaker:
    """Makes the events of accepted requests: two hashes and a few dicts a recipient, and a
    message's HTML is read only for the recipients who click."""

    def __init__(self, rates: EventRates, seed: int) -> None:
        self.rates = rates
        self._under = _Thresholds(rates)
        self._key = hashlib.blake2b(str(seed).encode(), digest_size=32).digest()

    def for_request(self, body: dict[str, Any], message_id: str, accepted_at: float) -> list[Event]:
        shared_args = body.get("custom_args") or {}
        categories = body.get("categories") or []
        common: Event = {"smtp-id": f"<{message_id}@ismtpd-emulator>"}
        if categories:
            common["category"] = categories[0] if len(categories) == 1 else list(categories)
        group = (body.get("asm") or {}).get("group_id")
        if group is not None:
            common["asm_group_id"] = group
        campaign = f"\0{body.get('subject') or ''}\0{sorted(shared_args.items())}"
        html_content: str = next(
            (
                item["value"]
                for item in body.get("content") or ()
                if item.get("type") == "text/html"
            ),
            "",
        )
        targets = _Targets(html_content)
        start = int(accepted_at)
        events: list[Event] = []
        recipient = 0
        for personalization in body["personalizations"]:
            args = {**shared_args, **(personalization.get("custom_args") or {})}
            for to in (
                *personalization["to"],
                *(personalization.get("cc") or ()),
                *(personalization.get("bcc") or ()),
            ):
                email = str(to["email"])
                base = {
                    **args,
                    **common,
                    "email": email,
                    "sg_message_id": f"{message_id}.emulator{recipient:04d}.0",
                }
                ids = EventIds(message_id, recipient)
                at = self._delivery(events, base, ids, email.lower(), start)
                if at is not None:
                    dice = _dice(self._key, email.lower() + campaign)
                    self._engagement(events, base, ids, at, dice, targets, personalization)
                recipient += 1
        return events

    def _delivery(
        self, events: list[Event], base: Event, ids: EventIds, address: str, start: int
    ) -> int | None:
        """Appends the delivery events; returns when the mail was delivered, if it was."""
        under = self._under
        fate = _dice(self._key, address)
        events.append({**base, "timestamp": start, "event": "processed", "sg_event_id": ids()})
        if fate[0] < under.drop:
            events.append(
                {
                    **base,
                    "timestamp": start,
                    "event": "dropped",
                    "sg_event_id": ids(),
                    "reason": _pick(DROP_REASONS, fate[1]),
                    "status": "5.0.0",
                }
            )
            return None
        at = start + 1
        if fate[2] < under.deferred:
            response = _pick(DEFERRAL_RESPONSES, fate[4])
            for attempt in range(1, 2 + _scaled(fate[3], 3)):
                events.append(
                    {
                        **base,
                        "timestamp": at,
                        "event": "deferred",
                        "sg_event_id": ids(),
                        "attempt": str(attempt),
                        "response": response,
                        "ip": SENDING_IP,
                    }
                )
                at += 5 * attempt
        if fate[0] < under.failed:
            permanent = fate[0] < under.bounce
            status, reason, classification = _pick(
                PERMANENT_BOUNCES if permanent else TEMPORARY_BLOCKS, fate[5]
            )
            events.append(
                {
                    **base,
                    "timestamp": at,
                    "event": "bounce",
                    "sg_event_id": ids(),
                    "type": "bounce" if permanent else "blocked",
                    "status": status,
                    "reason": reason,
                    "bounce_classification": classification,
                    "ip": SENDING_IP,
                    "tls": 1,
                }
            )
            return None
        if fate[6] >= under.delivered:
            return None  # still being retried: SendGrid keeps trying deferred mail for 72 hours
        events.append(
            {
                **base,
                "timestamp": at,
                "event": "delivered",
                "sg_event_id": ids(),
                "response": "250 2.0.0 OK",
                "ip": SENDING_IP,
                "tls": 1,
            }
        )
        return at

    def _engagement(
        self,
        events: list[Event],
        base: Event,
        ids: EventIds,
        delivered_at: int,
        dice: tuple[int, ...],
        targets: _Targets,
        personalization: dict[str, Any],
    ) -> None:
        under = self._under
        reader = {"ip": _pick(READER_IPS, dice[0]), "useragent": _pick(READER_AGENTS, dice[1])}
        if dice[2] < under.open:
            if dice[3] < under.machine_open:
                # Apple's proxy fetches the images as the mail arrives, from Apple's network.
                opened = {"ip": "17.58.0.1", "useragent": MACHINE_AGENT, "sg_machine_open": True}
                at = delivered_at + 1
            else:
                opened = {**reader, "sg_machine_open": False}
                at = delivered_at + 5 + _scaled(dice[4], 600)
            events.append(
                {**base, "timestamp": at, "event": "open", "sg_event_id": ids(), **opened}
            )
        if dice[5] < under.click:
            substitutions = personalization.get("substitutions") or {}
            found = clickable(targets.get(), substitutions)
            if found:
                index = _scaled(dice[6], len(found))
                events.append(
                    {
                        **base,
                        "timestamp": delivered_at + 30 + _scaled(dice[7], 900),
                        "event": "click",
                        "sg_event_id": ids(),
                        "url": found[index],
                        "url_offset": {"index": index, "type": "html"},
                        **reader,
                    }
                )
        if dice[8] < under.spam:
            at = delivered_at + 60 + _scaled(dice[9], 3600)
            events.append({**base, "timestamp": at, "event": "spamreport", "sg_event_id": ids()})
