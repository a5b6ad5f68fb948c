"""What storing a POST's events gives back: the events that were new, with what they were
tied to, and the counts the webhook answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from mailer.events.parse import ParsedEvent


class StoredEvent(NamedTuple):
    """An event stored by this POST (not seen before), as its row holds it."""

    id: int
    event: ParsedEvent
    campaign_id: int | None
    subscriber_id: int | None
    batch_id: int | None
    email_key: str | None
    """The address, kept only when no subscriber is known for the event."""
    url_id: int | None


@dataclass(frozen=True)
class Ingested:
    """The webhook's answer: events in the POST, how many were stored now, how many had
    been stored before (or came twice in it), and how many could not be read."""

    received: int
    new: int
    duplicates: int
    malformed: int

    def as_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "new": self.new,
            "duplicates": self.duplicates,
            "malformed": self.malformed,
        }
