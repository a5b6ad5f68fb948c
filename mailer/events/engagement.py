"""Opens and clicks into each recipient's first open and click.

Each delivery keeps its first open (``first_open_at``), its first open not made by a
machine (``first_human_open_at``: SendGrid's ``sg_machine_open``, Apple Mail Privacy
Protection fetching every image), its first click and its first click not judged
automated (``automated_clicks``), so a campaign's unique opens and clicks are counts over
its delivery rows. Every click's verdict is stored in ``events.machine``.

With ``[tracking] individual = false`` no delivery row is touched and the open and click
events are stored without the person (no subscriber, address or batch): only the
campaign's totals can be counted from them. They are still stored (not only counted)
because sg_event_id is what makes a batch SendGrid posts again count once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.config import Settings
from mailer.db.tables import deliveries, events
from mailer.events.automated_clicks import ClickJudgement, judge_clicks
from mailer.events.kinds import FIRST_BITS, KIND_BITS
from mailer.events.many import execute_many
from mailer.events.store_types import StoredEvent

Pair = tuple[int, int]
ALL_BITS = sum(KIND_BITS.values()) + sum(FIRST_BITS.values())
FIRSTS = ("first_open_at", "first_human_open_at", "first_click_at", "first_human_click_at")


@dataclass
class Firsts:
    first_open_at: int | None = None
    first_human_open_at: int | None = None
    first_click_at: int | None = None
    first_human_click_at: int | None = None

    def take(self, column: str, at: int) -> None:
        current = getattr(self, column)
        if current is None or at < current:
            setattr(self, column, at)

    def bits(self) -> int:
        """The event_kinds bits of the firsts taken."""
        return sum(bit for column, bit in FIRST_BITS.items() if getattr(self, column) is not None)


def record_engagement(
    connection: sa.Connection, new_events: Sequence[StoredEvent], settings: Settings
) -> ClickJudgement:
    """Store each click's verdict and the first opens and clicks; the verdicts."""
    opens = [stored for stored in new_events if stored.event.kind == "open"]
    clicks = [stored for stored in new_events if stored.event.kind == "click"]
    if not opens and not clicks:
        return ClickJudgement()
    judgement = judge_clicks(connection, clicks, settings.tracking.automated_click_seconds)
    if judgement.machine:
        execute_many(
            connection,
            sa.update(events)
            .where(events.c.id == sa.bindparam("event_id"))
            .values(machine=sa.bindparam("automated")),
            [{"event_id": i, "automated": m} for i, m in sorted(judgement.machine.items())],
        )
    engaged = [*opens, *clicks]
    if not settings.tracking.individual:
        _forget_who(connection, engaged)
        return judgement
    firsts: dict[Pair, Firsts] = {}
    for stored in engaged:
        if stored.campaign_id is None or stored.subscriber_id is None:
            continue
        first = firsts.setdefault((stored.campaign_id, stored.subscriber_id), Firsts())
        at = stored.event.occurred_at
        if stored.event.kind == "open":
            first.take("first_open_at", at)
            if not stored.event.machine:
                first.take("first_human_open_at", at)
        else:
            first.take("first_click_at", at)
            if not judgement.machine.get(stored.id):
                first.take("first_human_click_at", at)
    _keep_earliest(connection, firsts)
    for pair in sorted(judgement.rejudged_pairs):
        _recount_human_click(connection, pair)
    return judgement


def _keep_earliest(connection: sa.Connection, firsts: dict[Pair, Firsts]) -> None:
    """Each first time set where it is earlier than the stored one (or none is stored)."""
    if not firsts:
        return
    values: dict[str, Any] = {}
    for column in FIRSTS:
        stored = deliveries.c[column]
        new = sa.bindparam(f"new_{column}", type_=sa.BigInteger)
        values[column] = sa.case((sa.or_(stored.is_(None), stored > new), new), else_=stored)
    kinds = sa.bindparam("new_kinds", type_=sa.Integer)
    values["event_kinds"] = sa.func.coalesce(deliveries.c.event_kinds, 0).op("|")(kinds)
    execute_many(
        connection,
        sa.update(deliveries)
        .where(
            deliveries.c.campaign_id == sa.bindparam("on_campaign"),
            deliveries.c.subscriber_id == sa.bindparam("for_subscriber"),
        )
        .values(**values),
        [
            {
                "on_campaign": pair[0],
                "for_subscriber": pair[1],
                **{f"new_{column}": getattr(first, column) for column in FIRSTS},
                "new_kinds": first.bits(),
            }
            for pair, first in sorted(firsts.items())
        ],
    )


def _recount_human_click(connection: sa.Connection, pair: Pair) -> None:
    """The first human click again, once clicks thought human turned out automated."""
    earliest = (
        sa.select(sa.func.min(events.c.occurred_at))
        .where(
            events.c.campaign_id == pair[0],
            events.c.subscriber_id == pair[1],
            events.c.kind == "click",
            sa.or_(events.c.machine.is_(None), events.c.machine.is_(False)),
        )
        .scalar_subquery()
    )
    human_click = FIRST_BITS["first_human_click_at"]
    others = sa.func.coalesce(deliveries.c.event_kinds, 0).op("&")(ALL_BITS - human_click)
    connection.execute(
        sa.update(deliveries)
        .where(deliveries.c.campaign_id == pair[0], deliveries.c.subscriber_id == pair[1])
        .values(
            first_human_click_at=earliest,
            event_kinds=others.op("|")(sa.case((earliest.is_(None), 0), else_=human_click)),
        )
    )


def _forget_who(connection: sa.Connection, engaged: Sequence[StoredEvent]) -> None:
    ids = sorted(stored.id for stored in engaged)
    for start in range(0, len(ids), 1000):
        connection.execute(
            sa.update(events)
            .where(events.c.id.in_(ids[start : start + 1000]))
            .values(subscriber_id=None, email_key=None, batch_id=None)
        )
