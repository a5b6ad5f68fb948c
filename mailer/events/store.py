"""A POST's events stored in one transaction, each once: ``INSERT ... ON CONFLICT
(sg_event_id) DO NOTHING RETURNING``, so a batch SendGrid posts again (it retries anything
it did not see answered 2xx) adds nothing, even when two servers take it at once.

Each event is tied to the ledger: its batch by the X-Message-Id prefix of sg_message_id,
its campaign by that batch (or the ``mailer_campaign`` custom arg), its subscriber by the
``mailer_subscriber`` custom arg when that subscriber has the event's address, else by the
address. Ids that point at nothing are dropped, never an error: the event is kept without
them. The lookups are one query each per POST, not one per event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mailer.config import Settings
from mailer.db.engine import write_transaction
from mailer.db.tables import batches, campaigns, event_urls, subscribers
from mailer.delivery.settle import settle_new_events
from mailer.events.event_rows import EventRow, insert_new
from mailer.events.parse import ParsedBatch, ParsedEvent
from mailer.events.rules import apply_events
from mailer.events.store_types import Ingested, StoredEvent

LOOKUP_SLICE = 1000


def store_batch(
    engine: sa.Engine, batch: ParsedBatch, settings: Settings, now: datetime
) -> Ingested:
    """Store ``batch``'s events not stored before and apply the rules to them, in one
    transaction: when this returns, they are committed."""
    if not batch.events:  # nothing to store: no write lock taken
        return Ingested(batch.received, 0, 0, batch.malformed)
    with write_transaction(engine) as connection:
        new_events = insert_events(connection, batch.events)
        apply_events(connection, new_events, settings, now)
        settle_new_events(connection, new_events, now)
    stored = len(batch.events)
    return Ingested(batch.received, len(new_events), stored - len(new_events), batch.malformed)


def insert_events(connection: sa.Connection, parsed: Sequence[ParsedEvent]) -> list[StoredEvent]:
    """Insert the events whose sg_event_id is not stored yet; those inserted, in the POST's
    order (an event that comes twice in it counts once, as it came first)."""
    unique: dict[str, ParsedEvent] = {}
    for event in parsed:
        unique.setdefault(event.sg_event_id, event)
    if not unique:
        return []
    ledger = _Ledger(connection, list(unique.values()))
    url_ids = _url_ids(connection, {event.url for event in unique.values() if event.url})
    rows = {
        sg_event_id: ledger.row(event, url_ids.get(event.url) if event.url else None)
        for sg_event_id, event in unique.items()
    }
    # In one order for every server: two that store overlapping batches at once (SendGrid
    # posting again before the first answer) then wait for each other instead of deadlocking.
    new_ids = insert_new(connection, [rows[sg_event_id] for sg_event_id in sorted(rows)])
    stored = []
    for sg_event_id, event in unique.items():
        if sg_event_id in new_ids:
            row = rows[sg_event_id]
            stored.append(
                StoredEvent(
                    new_ids[sg_event_id],
                    event,
                    row.campaign_id,
                    row.subscriber_id,
                    row.batch_id,
                    row.email_key,
                    row.url_id,
                )
            )
    return stored


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class _Ledger:
    """What a POST's events point at that exists: batches by message id, campaigns and
    subscribers by id, subscribers by address."""

    def __init__(self, connection: sa.Connection, parsed: Sequence[ParsedEvent]) -> None:
        message_ids = {event.message_id for event in parsed if event.message_id}
        self.batches: dict[str, tuple[int, int]] = {
            row.message_id: (row.id, row.campaign_id)
            for row in _rows_in(
                connection,
                [batches.c.id, batches.c.campaign_id, batches.c.message_id],
                batches.c.message_id,
                message_ids,
            )
        }
        campaign_ids = {event.campaign_arg for event in parsed if event.campaign_arg}
        self.campaigns = {
            row.id for row in _rows_in(connection, [campaigns.c.id], campaigns.c.id, campaign_ids)
        }
        subscriber_ids = {event.subscriber_arg for event in parsed if event.subscriber_arg}
        self.keys_by_id: dict[int, str] = {
            row.id: row.email_key
            for row in _rows_in(
                connection,
                [subscribers.c.id, subscribers.c.email_key],
                subscribers.c.id,
                subscriber_ids,
            )
        }
        unmatched = {
            event.email_key for event in parsed if event.email_key and self._by_arg(event) is None
        }
        self.ids_by_key: dict[str, int] = {
            row.email_key: row.id
            for row in _rows_in(
                connection,
                [subscribers.c.id, subscribers.c.email_key],
                subscribers.c.email_key,
                unmatched,
            )
        }

    def _by_arg(self, event: ParsedEvent) -> int | None:
        """The custom arg's subscriber, if it exists and has the event's address (an event
        without an address is believed on the id alone: the id came back signed)."""
        if event.subscriber_arg is None or event.subscriber_arg not in self.keys_by_id:
            return None
        key = self.keys_by_id[event.subscriber_arg]
        return event.subscriber_arg if event.email_key in (None, key) else None

    def row(self, event: ParsedEvent, url_id: int | None) -> EventRow:
        batch_id, campaign_id = self.batches.get(event.message_id or "", (None, None))
        if campaign_id is None and event.campaign_arg in self.campaigns:
            campaign_id = event.campaign_arg
        subscriber_id = self._by_arg(event)
        if subscriber_id is None and event.email_key is not None:
            subscriber_id = self.ids_by_key.get(event.email_key)
        return EventRow(
            event.sg_event_id,
            event.kind,
            event.occurred_at,
            campaign_id,
            subscriber_id,
            batch_id,
            # The address only when no subscriber holds it: the rules need it to suppress
            # an address mailer has no subscriber for (or no longer has).
            event.email_key if subscriber_id is None else None,
            event.reason,
            event.status,
            event.bounce_type,
            event.classification,
            url_id,
            event.machine,
            event.asm_group_id,
            event.extra,
        )


def _rows_in(
    connection: sa.Connection,
    wanted_columns: Sequence[sa.Column[Any]],
    column: sa.Column[Any],
    values: Iterable[Any],
) -> list[sa.Row[Any]]:
    """The rows whose ``column`` is one of ``values`` (their ``wanted_columns``)."""
    wanted = sorted(values)
    found: list[sa.Row[Any]] = []
    # In slices: a 4 MB body can name tens of thousands, more than a statement may bind.
    for start in range(0, len(wanted), LOOKUP_SLICE):
        chosen = column.in_(wanted[start : start + LOOKUP_SLICE])
        found.extend(connection.execute(sa.select(*wanted_columns).where(chosen)).all())
    return found


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _url_ids(connection: sa.Connection, urls: set[str | None]) -> dict[str, int]:
    """Each URL's id in event_urls, stored now if it was not."""
    by_hash = {url_hash(url): url for url in urls if url}
    if not by_hash:
        return {}
    connection.execute(
        _insert(connection, event_urls).on_conflict_do_nothing(index_elements=["url_hash"]),
        [{"url_hash": hashed, "url": url} for hashed, url in sorted(by_hash.items())],
    )
    found = _rows_in(
        connection, [event_urls.c.id, event_urls.c.url_hash], event_urls.c.url_hash, by_hash
    )
    return {by_hash[row.url_hash]: row.id for row in found}
