"""Ledger rows to the per-recipient values a transport fills in: name, attributes and the
signed unsubscribe and preferences links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mailer.audience.attributes import format_attribute
from mailer.delivery.ledger_reads import LedgerRecipient
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.links import SubscriberLinks
from mailer.render.tokens import ATTRIBUTE_PREFIX, NO_ATTRIBUTES, Recipient


class RecipientBuilder:
    """Builds only what the content uses: signing a link costs more than the rest together."""

    def __init__(self, content: BatchContent, key: bytes) -> None:
        fields = content.html.fields | content.text.fields
        self.links = SubscriberLinks(
            content.newsletter.base_url,
            key,
            content.list_name,
            preferences="preferences_url" in fields,
        )
        self.attribute_names = sorted(
            name[len(ATTRIBUTE_PREFIX) :] for name in fields if name.startswith(ATTRIBUTE_PREFIX)
        )
        # Attribute names are case-insensitive, stored lower-case: {{ subscriber.attributes.City }}
        # is the "city" attribute.
        self._stored_keys = [(name, name.lower()) for name in self.attribute_names]

    @property
    def wants_attributes(self) -> bool:
        return bool(self.attribute_names)

    def recipient(
        self, subscriber_id: int, email: str, name: str, attributes: Mapping[str, Any]
    ) -> Recipient:
        # Always signed: the List-Unsubscribe header needs it even when the body has no link.
        unsubscribe, manage = self.links.urls(subscriber_id, email)
        values = (
            {name: format_attribute(attributes.get(key)) for name, key in self._stored_keys}
            if self.attribute_names
            else NO_ATTRIBUTES
        )
        return Recipient(email, name, unsubscribe, manage, values)

    def outgoing(self, rows: Sequence[LedgerRecipient]) -> list[Outgoing]:
        recipient = self.recipient
        return [Outgoing(row[0], recipient(row[0], row[1], row[2], row[3])) for row in rows]
