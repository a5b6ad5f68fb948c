"""The /v3/mail/send request body for one batch: one content body, one personalization per
recipient with its substitutions, List-Unsubscribe headers and the custom_args that tie every
SendGrid event back to the campaign and the ledger row.

Kept within SendGrid's documented limits: at most 1,000 personalizations, text/plain before
text/html, string values only in substitutions, custom_args and headers, no reserved header,
no address twice in one request, at most 10,000 bytes of substitutions per personalization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from mailer.config import SendGridSettings
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.render.eml import ONE_CLICK, list_id
from mailer.render.tokens import Recipient, header_safe

MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
# custom_args keys every event carries back (see the event webhook).
CAMPAIGN_ARG = "mailer_campaign"
SUBSCRIBER_ARG = "mailer_subscriber"


def _substitution_bytes(values: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in values.items())


class PayloadBuilder:
    """Builds request bodies for one content; the shared part is worked out once."""

    def __init__(self, content: BatchContent, settings: SendGridSettings) -> None:
        newsletter = content.newsletter
        self.campaign = str(content.campaign_id) if content.campaign_id is not None else "test"
        readers = {**content.text.substitutions(), **content.html.substitutions()}
        self.readers: list[tuple[str, Callable[[Recipient], str]]] = list(readers.items())
        shared: dict[str, Any] = {
            "from": {"email": newsletter.from_email, "name": header_safe(newsletter.sender_name)},
            "subject": header_safe(content.subject),
            # SendGrid requires this order: text/plain first, then text/html.
            "content": [
                {"type": "text/plain", "value": content.text.fill_tokens()},
                {"type": "text/html", "value": content.html.fill_tokens()},
            ],
            "headers": {"List-Id": list_id(newsletter, content.list_name)},
            "mail_settings": {"sandbox_mode": {"enable": settings.sandbox}},
            "tracking_settings": {
                "click_tracking": {"enable": settings.click_tracking, "enable_text": False},
                "open_tracking": {"enable": settings.open_tracking},
            },
        }
        if newsletter.reply_to:
            shared["reply_to"] = {
                "email": newsletter.reply_to,
                "name": header_safe(newsletter.sender_name),
            }
        if settings.categories:
            shared["categories"] = list(settings.categories)
        if settings.asm_group_id:
            shared["asm"] = {"group_id": settings.asm_group_id}
        self.shared = shared

    def personalization(self, item: Outgoing) -> dict[str, Any]:
        recipient = item.recipient
        to: dict[str, str] = {"email": recipient.email}
        name = header_safe(recipient.name)
        if name:
            to["name"] = name
        personalization: dict[str, Any] = {
            "to": [to],
            "headers": {
                "List-Unsubscribe": f"<{header_safe(recipient.unsubscribe_url)}>",
                "List-Unsubscribe-Post": ONE_CLICK,
            },
            "custom_args": {CAMPAIGN_ARG: self.campaign, SUBSCRIBER_ARG: str(item.key)},
        }
        if self.readers:
            personalization["substitutions"] = {
                token: read(recipient) for token, read in self.readers
            }
        return personalization

    def body(self, batch: Sequence[Outgoing]) -> tuple[bytes, dict[int, str]]:
        """The JSON body, and the recipients left out of it with the reason."""
        if len(batch) > MAX_PERSONALIZATIONS:
            raise ValueError(f"{len(batch)} recipients: SendGrid takes at most 1,000 a request")
        personalizations = []
        left_out: dict[int, str] = {}
        seen: set[str] = set()
        for item in batch:
            address = item.recipient.email.lower()
            if address in seen:
                left_out[item.key] = "the same address twice in one request"
                continue
            seen.add(address)
            personalization = self.personalization(item)
            substitutions = personalization.get("substitutions")
            if substitutions and _substitution_bytes(substitutions) > MAX_SUBSTITUTION_BYTES:
                left_out[item.key] = (
                    "personal values (name, attributes, links) exceed SendGrid's "
                    "10,000 bytes of substitutions"
                )
                continue
            personalizations.append(personalization)
        body = orjson.dumps({"personalizations": personalizations, **self.shared})
        return body, left_out
