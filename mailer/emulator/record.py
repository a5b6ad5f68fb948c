"""What the emulator accepted: one entry per recipient, in memory, and optionally one .eml per
recipient on disk, personalized the way SendGrid would (plain replacement of each substitution
key in the subject and the content).

Entries are kept as tuples of strings, one tuple of them per request, which the garbage
collector stops tracking: a record of a million entries held as objects or dicts (or even a
list of a million tuples) is walked again by every full collection, which made that walk most
of the emulator's time in a benchmark."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mailer.render.eml import MESSAGE_POLICY, UTF8_POLICY
from mailer.render.headers import WrittenHeader, named_header, text_header
from mailer.render.wire_address import needs_smtputf8, wire_address


@dataclass(frozen=True, slots=True)
class Delivered:
    email: str
    name: str
    message_id: str
    custom_args: dict[str, str]
    """The request's top-level custom_args with the personalization's over them, as
    SendGrid's events carry them."""

    @classmethod
    def from_entry(cls, entry: _Entry) -> Delivered:
        email, name, message_id, custom_args = entry
        return cls(email, name, message_id, dict(custom_args))

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.email,
            "name": self.name,
            "message_id": self.message_id,
            "custom_args": self.custom_args,
        }


# email, name, message id, custom_args as (key, value) pairs
_Entry = tuple[str, str, str, tuple[tuple[str, str], ...]]


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace(key, value)
    return text


def _addresses(header: str, values: list[dict[str, Any]]) -> WrittenHeader:
    """Names written as data, as SendGrid takes them (never decoded as encoded-words)."""
    entries = [
        (str(value.get("name") or ""), wire_address(str(value["email"]))) for value in values
    ]
    return named_header(header, entries)


def personalized_message(body: dict[str, Any], index: int, message_id: str) -> EmailMessage:
    """The message SendGrid would build for personalization ``index`` of an accepted body."""
    personalization = body["personalizations"][index]
    substitutions = personalization.get("substitutions") or {}
    senders = [body["from"], *([body["reply_to"]] if body.get("reply_to") else [])]
    addresses = [str(value["email"]) for value in [*senders, *personalization["to"]]]
    international = needs_smtputf8("".join(map(wire_address, addresses)))
    message = EmailMessage(policy=UTF8_POLICY if international else MESSAGE_POLICY)
    subject = personalization.get("subject") or body.get("subject") or ""
    message["Subject"] = text_header("Subject", _substitute(subject, substitutions))
    message["From"] = _addresses("From", [body["from"]])
    message["To"] = _addresses("To", personalization["to"])
    if body.get("reply_to"):
        message["Reply-To"] = _addresses("Reply-To", [body["reply_to"]])
    message["X-Message-Id"] = message_id
    for name, value in {
        **(body.get("headers") or {}),
        **(personalization.get("headers") or {}),
    }.items():
        message[name] = value
    parts = {item["type"]: _substitute(item["value"], substitutions) for item in body["content"]}
    message.set_content(parts.get("text/plain", ""), subtype="plain", charset="utf-8")
    if "text/html" in parts:
        message.add_alternative(parts["text/html"], subtype="html", charset="utf-8")
    return message


class Record:
    """Thread-safe: the server handles requests on several threads."""

    def __init__(self, store: Path | None = None) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._requests: list[tuple[_Entry, ...]] = []
        self.counts: Counter[str] = Counter()

    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def accept(self, body: dict[str, Any], message_id: str) -> None:
        shared_args = body.get("custom_args") or {}
        entries: tuple[_Entry, ...] = tuple(
            (
                str(to["email"]),
                str(to.get("name") or ""),
                message_id,
                tuple({**shared_args, **(personalization.get("custom_args") or {})}.items()),
            )
            for personalization in body["personalizations"]
            for to in personalization["to"]
        )
        if self.store is not None:
            self.store.mkdir(parents=True, exist_ok=True)
            for index in range(len(body["personalizations"])):
                message = personalized_message(body, index, message_id)
                (self.store / f"{message_id}-{index:04d}.eml").write_bytes(message.as_bytes())
        with self._lock:
            self._requests.append(entries)
            self.counts["accepted"] += 1

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [entry for entries in self._requests for entry in entries]
        wanted = to.lower() if to else None
        return [
            Delivered.from_entry(entry).as_json()
            for entry in found
            if wanted is None or entry[0].lower() == wanted
        ]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            per_address = Counter(
                entry[0].lower() for entries in self._requests for entry in entries
            )
            counts = dict(self.counts)
        repeated = {email: count for email, count in per_address.items() if count > 1}
        return {
            **counts,
            "recipients": sum(per_address.values()),
            "distinct_recipients": len(per_address),
            "duplicates": len(repeated),
            "duplicate_examples": dict(list(repeated.items())[:20]),
        }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self.counts.clear()
