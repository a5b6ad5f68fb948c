"""The /v3/mail/send request body for one batch: one content body, one personalization per
recipient with its substitutions, List-Unsubscribe headers and the custom_args that tie every
SendGrid event back to the campaign and the ledger row. Addresses (to, from, reply_to) go with
their domain in A-labels, as the SMTP envelope and the .eml files have them; the text a reader
reads shows their address as they know it.

Kept within SendGrid's documented limits: at most 1,000 personalizations, text/plain before
text/html, string values only in substitutions, custom_args and headers, no reserved header,
no address twice in one request, at most 10,000 bytes of substitutions per personalization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from operator import attrgetter
from typing import Any

import orjson

from mailer.config import SendGridSettings
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.delivery.transports.sendgrid_plain_json import PlainBatchWriter, Slot
from mailer.render.eml import ONE_CLICK, list_id
from mailer.render.tokens import TEXT_PART, Part, Recipient, header_safe, token
from mailer.render.wire_address import NoAsciiForm, wire_address

MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
# custom_args keys every event carries back (see the event webhook).
CAMPAIGN_ARG = "mailer_campaign"
SUBSCRIBER_ARG = "mailer_subscriber"


# Fields whose values this project builds from base_url and a base64url token: when base_url
# needs no escaping in HTML or in a header, neither do they, so the HTML and the text part share
# one token (a third less substitution data per recipient) and headers take them as they are.
LINK_FIELDS = frozenset({"unsubscribe_url", "preferences_url"})


def _substitution_bytes(values: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in values.items())


def _links_are_plain(base_url: str) -> bool:
    return escape(base_url, quote=True) == base_url and header_safe(base_url) == base_url


class PayloadBuilder:
    """Builds request bodies for one content; the shared part is worked out once."""

    def __init__(self, content: BatchContent, settings: SendGridSettings) -> None:
        newsletter = content.newsletter
        self.campaign = str(content.campaign_id) if content.campaign_id is not None else "test"
        self.plain_links = _links_are_plain(newsletter.base_url)
        slots: dict[str, Slot] = {}
        for template in (content.text, content.html):
            for (part, name), read in template.readers().items():
                if self.plain_links and name in LINK_FIELDS:
                    shared_token = self._token(part, name)
                    slots[shared_token] = Slot(shared_token, part, name, attrgetter(name), True)
                else:
                    slots[token(part, name)] = Slot(token(part, name), part, name, read, False)
        self.readers: list[tuple[str, Callable[[Recipient], str]]] = [
            (slot.token, slot.read) for slot in slots.values()
        ]
        self.token_bytes = sum(len(name.encode()) for name in slots)
        self.plain_writer = (
            PlainBatchWriter(list(slots.values()), SUBSCRIBER_ARG, MAX_SUBSTITUTION_BYTES)
            if self.plain_links
            else None
        )
        shared: dict[str, Any] = {
            "from": {
                "email": wire_address(newsletter.from_email),
                "name": header_safe(newsletter.sender_name),
            },
            "subject": header_safe(content.subject),
            # SendGrid requires this order: text/plain first, then text/html.
            "content": [
                {"type": "text/plain", "value": content.text.fill_tokens(self._token)},
                {"type": "text/html", "value": content.html.fill_tokens(self._token)},
            ],
            # What is the same for everyone goes once, at the top: SendGrid merges the top-level
            # headers and custom_args into each personalization's (and so into its events).
            "headers": {
                "List-Id": list_id(newsletter, content.list_name),
                "List-Unsubscribe-Post": ONE_CLICK,
            },
            "custom_args": {CAMPAIGN_ARG: self.campaign},
            "mail_settings": {"sandbox_mode": {"enable": settings.sandbox}},
            "tracking_settings": {
                "click_tracking": {"enable": settings.click_tracking, "enable_text": False},
                "open_tracking": {"enable": settings.open_tracking},
            },
        }
        if newsletter.reply_to:
            shared["reply_to"] = {
                "email": wire_address(newsletter.reply_to),
                "name": header_safe(newsletter.sender_name),
            }
        if settings.categories:
            shared["categories"] = list(settings.categories)
        if settings.asm_group_id:
            shared["asm"] = {"group_id": settings.asm_group_id}
        self.shared = shared
        # The request with its personalizations left out: '{' plus what follows them.
        self.shared_tail = orjson.dumps(shared)[1:]

    def _token(self, part: Part, name: str) -> str:
        return token(TEXT_PART if self.plain_links and name in LINK_FIELDS else part, name)

    def personalization(self, item: Outgoing, address: str) -> dict[str, Any]:
        """The recipient's personalization; ``address`` is their wire_address."""
        recipient = item.recipient
        to: dict[str, str] = {"email": address}
        name = header_safe(recipient.name) if recipient.name else ""
        if name:
            to["name"] = name
        unsubscribe = recipient.unsubscribe_url
        personalization: dict[str, Any] = {
            "to": [to],
            "headers": {
                "List-Unsubscribe": (
                    f"<{unsubscribe if self.plain_links else header_safe(unsubscribe)}>"
                ),
            },
            "custom_args": {SUBSCRIBER_ARG: str(item.key)},
        }
        if self.readers:
            personalization["substitutions"] = {
                token: read(recipient) for token, read in self.readers
            }
        return personalization

    def _too_big(self, substitutions: dict[str, str]) -> bool:
        # A character is at most 4 bytes: counting bytes is only needed near the limit.
        if self.token_bytes + 4 * sum(map(len, substitutions.values())) <= MAX_SUBSTITUTION_BYTES:
            return False
        return _substitution_bytes(substitutions) > MAX_SUBSTITUTION_BYTES

    def body(self, batch: Sequence[Outgoing]) -> tuple[bytes, dict[int, str]]:
        """The JSON body, and the recipients left out of it with the reason."""
        if len(batch) > MAX_PERSONALIZATIONS:
            raise ValueError(f"{len(batch)} recipients: SendGrid takes at most 1,000 a request")
        plain = self.plain_writer.personalizations(batch) if self.plain_writer else None
        if plain is not None:
            return b'{"personalizations":' + plain + b"," + self.shared_tail, {}
        return self.general_body(batch)

    def general_body(self, batch: Sequence[Outgoing]) -> tuple[bytes, dict[int, str]]:
        """``body`` for any batch: a dict per recipient, checked one at a time."""
        personalizations = []
        left_out: dict[int, str] = {}
        seen: set[str] = set()
        for item in batch:
            try:
                address = wire_address(item.recipient.email)
            except NoAsciiForm as exc:
                left_out[item.key] = str(exc)
                continue
            if address.lower() in seen:
                left_out[item.key] = "the same address twice in one request"
                continue
            seen.add(address.lower())
            personalization = self.personalization(item, address)
            substitutions = personalization.get("substitutions")
            if substitutions and self._too_big(substitutions):
                left_out[item.key] = (
                    "personal values (name, attributes, links, conditional text) exceed SendGrid's "
                    "10,000 bytes of substitutions"
                )
                continue
            personalizations.append(personalization)
        body = orjson.dumps({"personalizations": personalizations, **self.shared})
        return body, left_out
