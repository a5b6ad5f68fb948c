"""The queries behind a campaign's report, none of which reads all the campaign's events:

- events per kind and hour, all and by machines, from ``event_tallies`` (kept as events are
  stored);
- recipients per kind from the index of the campaign's ledger rows by ``event_kinds`` (one
  bit per kind of event);
- the ledger's rows in each state, in one pass over them;
- per-link clicks from the index of clicks by link and person;
- bounces, drops and SendGrid's unsubscribes (few) from their events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import DELIVERY_STATUSES
from mailer.delivery.settle import CONFIRMED_BY_EVENTS
from mailer.events.kinds import FIRST_BITS, KIND_BITS

_TALLIES = sa.text(
    """
    SELECT kind, hour, events, machine_events FROM event_tallies
    WHERE campaign_id = :campaign
    """
)

# The rows in each state and those settled by events: a pass over the campaign's ledger rows
# (the primary key starts with campaign_id), which a report runs beside the other queries.
_LEDGER_STATES = sa.text(
    "SELECT COUNT(*) AS total, "
    + ", ".join(
        f"COUNT(CASE WHEN status = '{status}' THEN 1 END) AS {status}"
        for status in DELIVERY_STATUSES
    )
    + """, COUNT(CASE WHEN error = :confirmed THEN 1 END) AS confirmed
    FROM deliveries WHERE campaign_id = :campaign
    """
)
# Read from ix_deliveries_event_kinds alone: a few hundred groups.
_LEDGER_RECIPIENTS = sa.text(
    """
    SELECT event_kinds, COUNT(*) AS recipients FROM deliveries
    WHERE campaign_id = :campaign AND event_kinds IS NOT NULL
    GROUP BY event_kinds
    """
)

# SendGrid's own unsubscribes: few, counted from their events.
_UNSUBSCRIBERS = sa.text(
    """
    SELECT kind, COUNT(DISTINCT subscriber_id) AS recipients FROM events
    WHERE campaign_id = :campaign AND kind IN ('unsubscribe', 'group_unsubscribe')
    GROUP BY kind
    """
)

# Read from ix_events_clicks alone (campaign, link, person, machine) in its order.
_BY_LINK = sa.text(
    """
    SELECT event_urls.url AS url, per_link.clicks, per_link.recipients,
           per_link.human_clicks, per_link.human_recipients
    FROM (
        SELECT url_id, COUNT(*) AS clicks, COUNT(DISTINCT subscriber_id) AS recipients,
               SUM(CASE WHEN machine THEN 0 ELSE 1 END) AS human_clicks,
               COUNT(DISTINCT CASE WHEN machine THEN NULL ELSE subscriber_id END)
                   AS human_recipients
        FROM events
        WHERE campaign_id = :campaign AND kind = 'click' AND url_id IS NOT NULL
        GROUP BY url_id
    ) AS per_link
    JOIN event_urls ON event_urls.id = per_link.url_id
    ORDER BY per_link.recipients DESC, per_link.clicks DESC, event_urls.url
    """
)

# Bounces by type (bounce: permanent, blocked: temporary) and SendGrid's classification;
# drops by reason. Few rows: these read the table.
_BOUNCES = sa.text(
    """
    SELECT COALESCE(bounce_type, 'bounce') AS bounce_type, classification,
           COUNT(*) AS events, COUNT(DISTINCT subscriber_id) AS recipients
    FROM events WHERE campaign_id = :campaign AND kind = 'bounce'
    GROUP BY COALESCE(bounce_type, 'bounce'), classification
    """
)
_DROPS = sa.text(
    """
    SELECT reason, COUNT(*) AS events, COUNT(DISTINCT subscriber_id) AS recipients
    FROM events WHERE campaign_id = :campaign AND kind = 'dropped'
    GROUP BY reason
    """
)


@dataclass(frozen=True)
class KindCounts:
    events: int
    recipients: int
    human_recipients: int
    human_events: int


@dataclass(frozen=True)
class LinkCounts:
    url: str
    clicks: int
    recipients: int
    human_clicks: int
    human_recipients: int


@dataclass(frozen=True)
class ReasonCounts:
    bounce_type: str | None
    reason: str | None
    events: int
    recipients: int


def ledger_states(connection: sa.Connection, campaign_id: int) -> tuple[dict[str, int], int]:
    """ "total" and the rows in each state (as ``delivery_counts`` gives them), and how many
    rows SendGrid's events settled (in doubt, then confirmed sent)."""
    parameters = {"campaign": campaign_id, "confirmed": CONFIRMED_BY_EVENTS}
    row = connection.execute(_LEDGER_STATES, parameters).one()._mapping
    counts = {"total": int(row["total"])} | {
        status: int(row[status]) for status in DELIVERY_STATUSES
    }
    return counts, int(row["confirmed"])


@dataclass(frozen=True)
class Recipients:
    every: dict[str, int]
    """Recipients with an event of each kind."""
    human: dict[str, int]
    """Recipients with an open or a click not a machine's (other kinds: as ``every``)."""


def ledger_recipients(connection: sa.Connection, campaign_id: int) -> Recipients:
    every = dict.fromkeys([*KIND_BITS, "open", "click"], 0)
    human = dict(every)
    for row in connection.execute(_LEDGER_RECIPIENTS, {"campaign": campaign_id}):
        kinds, count = int(row.event_kinds), int(row.recipients)
        for kind, bit in KIND_BITS.items():
            if kinds & bit:
                every[kind] += count
                human[kind] += count
        for kind in ("open", "click"):
            if kinds & FIRST_BITS[f"first_{kind}_at"]:
                every[kind] += count
            if kinds & FIRST_BITS[f"first_human_{kind}_at"]:
                human[kind] += count
    return Recipients(every, human)


@dataclass(frozen=True)
class Tally:
    kind: str
    hour: int
    events: int
    machine_events: int


def tallies(connection: sa.Connection, campaign_id: int) -> list[Tally]:
    rows = connection.execute(_TALLIES, {"campaign": campaign_id})
    return [
        Tally(row.kind, int(row.hour), int(row.events), int(row.machine_events)) for row in rows
    ]


def unsubscribers(connection: sa.Connection, campaign_id: int) -> dict[str, int]:
    """Recipients of SendGrid's unsubscribe and group_unsubscribe events."""
    rows = connection.execute(_UNSUBSCRIBERS, {"campaign": campaign_id})
    return {row.kind: int(row.recipients) for row in rows}


def counts_by_kind(
    tallied: list[Tally], unsubscribed: dict[str, int], ledger: Recipients
) -> dict[str, KindCounts]:
    """Each kind's events (all and not a machine's) and recipients (all and with at least
    one event not a machine's); recipients only for the kinds a report shows."""
    events: dict[str, int] = {}
    machine: dict[str, int] = {}
    for tally in tallied:
        events[tally.kind] = events.get(tally.kind, 0) + tally.events
        machine[tally.kind] = machine.get(tally.kind, 0) + tally.machine_events
    recipients = ledger.every | unsubscribed
    human = ledger.human | unsubscribed
    return {
        kind: KindCounts(total, recipients.get(kind, 0), human.get(kind, 0), total - machine[kind])
        for kind, total in events.items()
    }


def counts_by_link(connection: sa.Connection, campaign_id: int) -> list[LinkCounts]:
    return links_of(connection.execute(_BY_LINK, {"campaign": campaign_id}))


def links_of(rows: Iterable[Any]) -> list[LinkCounts]:
    """Rows of (url, clicks, recipients, human_clicks, human_recipients) as LinkCounts."""
    return [
        LinkCounts(
            row.url,
            int(row.clicks),
            int(row.recipients),
            int(row.human_clicks),
            int(row.human_recipients),
        )
        for row in rows
    ]


def bounces(connection: sa.Connection, campaign_id: int) -> list[ReasonCounts]:
    rows = connection.execute(_BOUNCES, {"campaign": campaign_id})
    return [
        ReasonCounts(row.bounce_type, row.classification, int(row.events), int(row.recipients))
        for row in rows
    ]


def drops(connection: sa.Connection, campaign_id: int) -> list[ReasonCounts]:
    rows = connection.execute(_DROPS, {"campaign": campaign_id})
    return [ReasonCounts(None, row.reason, int(row.events), int(row.recipients)) for row in rows]


def hourly(tallied: list[Tally]) -> dict[int, dict[str, int]]:
    """Events per kind in each UTC hour (keyed by the hour's start, seconds since 1970);
    hours with no event are left out."""
    found: dict[int, dict[str, int]] = {}
    for tally in tallied:
        found.setdefault(tally.hour, {})[tally.kind] = tally.events
    return {hour: dict(sorted(found[hour].items())) for hour in sorted(found)}
