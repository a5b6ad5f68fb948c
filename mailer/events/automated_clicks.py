"""Which clicks look automated (a mail server's link scanner, not a reader). A click is
automated when any of these holds:

1. its user agent names a known scanner or a program (``SCANNER_AGENTS``, matched
   case-insensitively anywhere in it);
2. it came ``[tracking] automated_click_seconds`` or fewer after SendGrid delivered the
   message (processed, when no delivered event is stored): no reader is that quick;
3. the same recipient clicked ``BURST_LINKS`` or more different links of the same message
   within ``BURST_SECONDS`` of each other: a scanner opens every link at once. The clicks
   of such a burst stored from an earlier POST are marked too.

Such clicks are kept (``events.machine`` true) but are not a reader's first click.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import events
from mailer.events.store_types import StoredEvent

SCANNER_AGENTS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "forcepoint",
    "trendmicro",
    "symantec",
    "bingpreview",
    "python-requests",
    "curl/",
    "wget/",
    "headlesschrome",
    "bot",
    "spider",
    "crawler",
    "scanner",
)
BURST_LINKS = 3
BURST_SECONDS = 1

Pair = tuple[int, int]


@dataclass
class ClickJudgement:
    machine: dict[int, bool] = field(default_factory=dict)
    """Each click's verdict by event id: the new clicks and the earlier ones re-judged."""
    rejudged_pairs: set[Pair] = field(default_factory=set)
    """(campaign, subscriber) whose earlier clicks became automated."""
    rejudged_at: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Each earlier click that became automated: its (campaign, time), to count it so."""


def judge_clicks(
    connection: sa.Connection, clicks: Sequence[StoredEvent], quick_seconds: int
) -> ClickJudgement:
    judgement = ClickJudgement()
    for click in clicks:
        agent = (click.event.user_agent or "").lower()
        judgement.machine[click.id] = any(marker in agent for marker in SCANNER_AGENTS)
    known = [c for c in clicks if c.campaign_id is not None and c.subscriber_id is not None]
    if not known:
        return judgement
    sent_at = _delivered_at(connection, known)
    for click in known:
        start = sent_at.get(_pair(click))
        if start is not None and click.event.occurred_at - start <= quick_seconds:
            judgement.machine[click.id] = True
    _judge_bursts(connection, known, judgement)
    return judgement


def _pair(click: StoredEvent) -> Pair:
    assert click.campaign_id is not None and click.subscriber_id is not None
    return (click.campaign_id, click.subscriber_id)


def _delivered_at(connection: sa.Connection, clicks: Sequence[StoredEvent]) -> dict[Pair, int]:
    """When each message was delivered (or processed, when no delivered event is stored)."""
    pairs = {_pair(click) for click in clicks}
    rows = connection.execute(
        sa.select(
            events.c.campaign_id,
            events.c.subscriber_id,
            events.c.kind,
            sa.func.min(events.c.occurred_at),
        )
        .where(
            events.c.subscriber_id.in_(sorted({s for _, s in pairs})),
            # "+ 0" keeps SQLite (which has no statistics) from reading the events through
            # the (campaign_id, kind) index: every delivered event of the campaign, a POST's
            # cost growing with the campaign. Through the subscriber index it is a few rows
            # for each of the POST's clickers.
            (events.c.campaign_id + 0).in_(sorted({c for c, _ in pairs})),
            events.c.kind.in_(("delivered", "processed")),
        )
        .group_by(events.c.campaign_id, events.c.subscriber_id, events.c.kind)
    ).all()
    delivered: dict[Pair, int] = {}
    processed: dict[Pair, int] = {}
    for campaign_id, subscriber_id, kind, at in rows:
        (delivered if kind == "delivered" else processed)[(campaign_id, subscriber_id)] = at
    found = {**processed, **delivered}
    return {pair: found[pair] for pair in pairs if pair in found}


def _judge_bursts(
    connection: sa.Connection, clicks: Sequence[StoredEvent], judgement: ClickJudgement
) -> None:
    """Rule 3, over the stored clicks of these recipients around these clicks' times (this
    POST's included: they are stored already)."""
    times = [click.event.occurred_at for click in clicks]
    rows = connection.execute(
        sa.select(
            events.c.id,
            events.c.campaign_id,
            events.c.subscriber_id,
            events.c.occurred_at,
            events.c.url_id,
            events.c.machine,
        ).where(
            events.c.subscriber_id.in_(
                sorted({c.subscriber_id for c in clicks if c.subscriber_id})
            ),
            events.c.kind == "click",
            events.c.occurred_at.between(min(times) - BURST_SECONDS, max(times) + BURST_SECONDS),
        )
    ).all()
    by_pair: dict[Pair, list[Any]] = defaultdict(list)
    for row in rows:
        by_pair[(row.campaign_id, row.subscriber_id)].append(row)
    new_pairs = {_pair(click) for click in clicks}
    for pair in new_pairs:
        stored = by_pair.get(pair, [])
        for row in stored:
            nearby = {
                other.url_id
                for other in stored
                if abs(other.occurred_at - row.occurred_at) <= BURST_SECONDS
            }
            if len(nearby) < BURST_LINKS:
                continue
            if row.id in judgement.machine:
                judgement.machine[row.id] = True
            elif not row.machine:
                judgement.machine[row.id] = True
                judgement.rejudged_pairs.add(pair)
                judgement.rejudged_at[row.id] = (row.campaign_id, row.occurred_at)
