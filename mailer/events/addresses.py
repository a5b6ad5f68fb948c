"""Which address an event may act on, and suppressing it.

An event acts only on the address it names itself (``email``): the subscriber it is tied
to holds that address (store.py ties a ``mailer_subscriber`` id only when the addresses
agree), or no subscriber does and the address key is kept in the event. An event without
an address suppresses and unsubscribes no one, so a forged (but signed) event cannot make
mailer act on someone else by naming their id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.audience.suppressions import add_suppression
from mailer.db.tables import subscribers
from mailer.events.store_types import StoredEvent

LOOKUP_SLICE = 1000
DETAIL_MAX = 500


@dataclass(frozen=True)
class Target:
    key: str
    """The address key (subscribers.email_key form)."""
    email: str
    """The address as the subscriber wrote it (the key when no subscriber has it)."""
    subscriber_id: int | None


class Targets:
    """The addresses a POST's events may act on, found with one query per slice when the
    first of them is asked for (most POSTs, of deliveries, opens and clicks, ask for none)."""

    def __init__(self, connection: sa.Connection, stored: Sequence[StoredEvent]) -> None:
        self._connection = connection
        self._stored = stored
        self._found: dict[int, str] | None = None

    def _emails(self) -> dict[int, str]:
        if self._found is not None:
            return self._found
        ids = sorted({event.subscriber_id for event in self._stored if event.subscriber_id})
        self._found = {}
        for start in range(0, len(ids), LOOKUP_SLICE):
            chosen = subscribers.c.id.in_(ids[start : start + LOOKUP_SLICE])
            query = sa.select(subscribers.c.id, subscribers.c.email).where(chosen)
            self._found.update({row.id: row.email for row in self._connection.execute(query)})
        return self._found

    def of(self, stored: StoredEvent) -> Target | None:
        key = stored.event.email_key
        if key is None:
            return None
        if stored.subscriber_id is None:
            return Target(key, key, None)
        email = self._emails().get(stored.subscriber_id)
        return None if email is None else Target(key, email, stored.subscriber_id)


def suppress(
    connection: sa.Connection, targets: Iterable[tuple[Target, str, str]], now: datetime
) -> None:
    """Suppress each (target, reason, detail) unless the address already is (the first
    reason stays)."""
    for target, reason, detail in targets:
        add_suppression(
            connection, target.key, target.email, reason, detail[:DETAIL_MAX], lambda: now
        )


def bounce_detail(prefix: str, status: str | None, reason: str | None) -> str:
    """SendGrid's words, e.g. "SendGrid bounce 5.1.1: 550 5.1.1 No such user"."""
    head = f"{prefix} {status}" if status else prefix
    return f"{head}: {reason}" if reason else head
