"""``processed``, ``deferred``, ``delivered``, bounces, drops and spam reports into each
recipient's delivery row: its ``outcome``, with SendGrid's reason and the event's time.

The outcome only moves forward (``kinds.OUTCOME_RANK``): SendGrid's events come out of
order, and a ``processed`` posted after ``delivered`` must not undo it, while a bounce after
``delivered`` (an asynchronous bounce) does count. Between two events of equal rank the
later one wins (the last deferral's reason is the one worth reading). The ledger's own
``status`` (what the sender did) is never changed here.

Each row also keeps which kinds of these events it had (``event_kinds``, one bit each, see
``kinds.KIND_BITS``), whatever the outcome: a recipient delivered and later reported as spam
still counts as delivered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import deliveries
from mailer.events.kinds import KIND_BITS, OUTCOME_RANK, outcome_of
from mailer.events.many import execute_many
from mailer.events.store_types import StoredEvent

PAIR_SLICE = 500
Pair = tuple[int, int]


@dataclass(frozen=True)
class Outcome:
    name: str
    at: int
    reason: str | None

    def beats(self, other: Outcome | None) -> bool:
        if other is None:
            return True
        mine, theirs = OUTCOME_RANK[self.name], OUTCOME_RANK.get(other.name, -1)
        return mine > theirs or (mine == theirs and self.at >= other.at)


@dataclass(frozen=True)
class Current:
    """What a delivery row holds: its outcome (None: no event yet) and its kinds' bits."""

    outcome: Outcome | None
    kinds: int


def record_outcomes(connection: sa.Connection, new_events: Sequence[StoredEvent]) -> None:
    best: dict[Pair, Outcome] = {}
    kinds: dict[Pair, int] = defaultdict(int)
    for stored in new_events:
        name = outcome_of(stored.event)
        if name is None or stored.campaign_id is None or stored.subscriber_id is None:
            continue
        outcome = Outcome(name, stored.event.occurred_at, _reason(stored))
        pair = (stored.campaign_id, stored.subscriber_id)
        kinds[pair] |= KIND_BITS[stored.event.kind]
        if outcome.beats(best.get(pair)):
            best[pair] = outcome
    if not best:
        return
    changes = []
    for pair, current in current_outcomes(connection, sorted(best)).items():
        new_kinds = current.kinds | kinds[pair]
        chosen = best[pair] if best[pair].beats(current.outcome) else current.outcome
        if chosen is current.outcome and new_kinds == current.kinds:
            continue
        assert chosen is not None  # best beats no outcome
        changes.append(
            {"on_campaign": pair[0], "for_subscriber": pair[1], **_values(chosen, new_kinds)}
        )
    if changes:
        execute_many(
            connection,
            sa.update(deliveries)
            .where(
                deliveries.c.campaign_id == sa.bindparam("on_campaign"),
                deliveries.c.subscriber_id == sa.bindparam("for_subscriber"),
            )
            .values(
                outcome=sa.bindparam("new_outcome"),
                outcome_reason=sa.bindparam("new_reason"),
                outcome_at=sa.bindparam("new_at"),
                # Or'ed in the database: the engagement rule sets bits of its own.
                event_kinds=sa.func.coalesce(deliveries.c.event_kinds, 0).op("|")(
                    sa.bindparam("new_kinds", type_=sa.Integer)
                ),
            ),
            changes,
        )


def _reason(stored: StoredEvent) -> str | None:
    """SendGrid's reason; a bounce's status put first when the reason does not hold it."""
    event = stored.event
    if event.kind == "bounce" and event.status and event.status not in (event.reason or ""):
        return f"{event.status} {event.reason or ''}".strip()
    return event.reason


def _values(outcome: Outcome, kinds: int) -> dict[str, Any]:
    return {
        "new_outcome": outcome.name,
        "new_reason": outcome.reason,
        "new_at": outcome.at,
        "new_kinds": kinds,
    }


def current_outcomes(connection: sa.Connection, pairs: list[Pair]) -> dict[Pair, Current]:
    """The outcome and kinds of each of these deliveries that exists, locked until the
    transaction ends (two servers storing events of one recipient at once then take turns)."""
    found: dict[Pair, Current] = {}
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for campaign_id, subscriber_id in pairs:
        by_campaign[campaign_id].append(subscriber_id)
    # A campaign at a time, its subscribers in slices: SQLite searches the primary key for
    # "campaign_id = ? AND subscriber_id IN (...)" but scans the whole table for a row-value
    # IN of (campaign_id, subscriber_id) pairs.
    for campaign_id in sorted(by_campaign):
        ids = sorted(by_campaign[campaign_id])
        for start in range(0, len(ids), PAIR_SLICE):
            query = (
                sa.select(
                    deliveries.c.campaign_id,
                    deliveries.c.subscriber_id,
                    deliveries.c.outcome,
                    deliveries.c.outcome_at,
                    deliveries.c.outcome_reason,
                    deliveries.c.event_kinds,
                )
                .where(
                    deliveries.c.campaign_id == campaign_id,
                    deliveries.c.subscriber_id.in_(ids[start : start + PAIR_SLICE]),
                )
                .order_by(deliveries.c.subscriber_id)
                .with_for_update()
            )
            for row in connection.execute(query):
                current = None
                if row.outcome is not None:
                    current = Outcome(row.outcome, row.outcome_at or 0, row.outcome_reason)
                found[(row.campaign_id, row.subscriber_id)] = Current(current, row.event_kinds or 0)
    return found
