"""The queries behind a campaign's report, none of which reads all the campaign's events:

- events per kind and hour, all and by machines, from ``event_tallies`` (kept as events are
  stored);
- recipients per kind from the campaign's ledger rows: ``event_kinds`` (one bit per kind of
  delivery event) and the first opens and clicks;
- per-link clicks from the index of clicks by link and person;
- bounces, drops and SendGrid's unsubscribes (few) from their events.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from mailer.events.kinds import KIND_BITS

_TALLIES = sa.text(
    """
    SELECT kind, hour, events, machine_events FROM event_tallies
    WHERE campaign_id = :campaign
    """
)

# One pass over the campaign's ledger rows (the primary key starts with campaign_id).
_RECIPIENTS = sa.text(
    "SELECT "
    + ", ".join(
        f"COUNT(CASE WHEN event_kinds & {bit} <> 0 THEN 1 END) AS {kind}"
        for kind, bit in KIND_BITS.items()
    )
    + """,
    COUNT(first_open_at) AS opens, COUNT(first_human_open_at) AS human_opens,
    COUNT(first_click_at) AS clicks, COUNT(first_human_click_at) AS human_clicks
    FROM deliveries WHERE campaign_id = :campaign
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


def counts_by_kind(connection: sa.Connection, campaign_id: int) -> dict[str, KindCounts]:
    """Each kind's events (all and not a machine's) and recipients (all and with at least
    one event not a machine's); recipients only for the kinds a report shows."""
    events: dict[str, int] = {}
    machine: dict[str, int] = {}
    for row in connection.execute(_TALLIES, {"campaign": campaign_id}):
        events[row.kind] = events.get(row.kind, 0) + int(row.events)
        machine[row.kind] = machine.get(row.kind, 0) + int(row.machine_events)
    if not events:
        return {}
    ledger = connection.execute(_RECIPIENTS, {"campaign": campaign_id}).one()._mapping
    recipients = {kind: int(ledger[kind] or 0) for kind in KIND_BITS}
    human = dict(recipients)
    recipients["open"], human["open"] = int(ledger["opens"]), int(ledger["human_opens"])
    recipients["click"], human["click"] = int(ledger["clicks"]), int(ledger["human_clicks"])
    for row in connection.execute(_UNSUBSCRIBERS, {"campaign": campaign_id}):
        recipients[row.kind] = human[row.kind] = int(row.recipients)
    return {
        kind: KindCounts(
            total,
            recipients.get(kind, 0),
            human.get(kind, 0),
            total - machine[kind],
        )
        for kind, total in events.items()
    }


def counts_by_link(connection: sa.Connection, campaign_id: int) -> list[LinkCounts]:
    rows = connection.execute(_BY_LINK, {"campaign": campaign_id})
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


def hourly(connection: sa.Connection, campaign_id: int) -> dict[int, dict[str, int]]:
    """Events per kind in each UTC hour (keyed by the hour's start, seconds since 1970);
    hours with no event are left out."""
    found: dict[int, dict[str, int]] = {}
    for row in connection.execute(_TALLIES, {"campaign": campaign_id}):
        found.setdefault(int(row.hour), {})[row.kind] = int(row.events)
    return {hour: dict(sorted(found[hour].items())) for hour in sorted(found)}
