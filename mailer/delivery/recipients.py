"""Ledger rows to the per-recipient values a transport fills in: name, attributes and the
signed unsubscribe and preferences links."""

from __future__ import annotations

from collections.abc import Sequence

from mailer.audience.attributes import format_attribute
from mailer.delivery.ledger import LedgerRecipient
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.links import preferences_url, unsubscribe_url
from mailer.render.tokens import ATTRIBUTE_PREFIX, Recipient


class RecipientBuilder:
    """Builds only what the content uses: signing a link costs more than the rest together."""

    def __init__(self, content: BatchContent, key: bytes) -> None:
        fields = content.html.fields | content.text.fields
        self.base_url = content.newsletter.base_url
        self.list_name = content.list_name
        self.key = key
        self.wants_preferences = "preferences_url" in fields
        self.attribute_names = sorted(
            name[len(ATTRIBUTE_PREFIX) :] for name in fields if name.startswith(ATTRIBUTE_PREFIX)
        )

    def recipient(self, email: str, name: str, attributes: dict[str, object]) -> Recipient:
        return Recipient(
            email=email,
            name=name,
            # Always: the List-Unsubscribe header needs it even when the body has no link.
            unsubscribe_url=unsubscribe_url(self.base_url, self.key, email, self.list_name),
            preferences_url=(
                preferences_url(self.base_url, self.key, email, self.list_name)
                if self.wants_preferences
                else ""
            ),
            attributes={
                name: format_attribute(attributes.get(name)) for name in self.attribute_names
            },
        )

    def outgoing(self, rows: Sequence[LedgerRecipient]) -> list[Outgoing]:
        return [
            Outgoing(row.subscriber_id, self.recipient(row.email, row.name, dict(row.attributes)))
            for row in rows
        ]
