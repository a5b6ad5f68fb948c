"""The aggregate queries behind a campaign's report, each one pass over an index range of the
campaign's events (never a read of the events table's rows, except for the few bounces and
drops whose reasons are counted).

Two indexes serve them: ``(campaign_id, kind, subscriber_id, machine, url_id)``, in whose
order the per-recipient grouping streams without a sort, and ``(campaign_id, kind,
occurred_at)``, on which each hour of the timeline is one range count.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

# Per kind: events, recipients, and recipients with at least one event not made by a
# machine (an open without sg_machine_open, a click not marked automated). The inner
# grouping follows the index order (kind, subscriber_id), so neither level sorts.
_BY_KIND = sa.text(
    """
    SELECT kind, SUM(n) AS events, COUNT(subscriber_id) AS recipients,
           SUM(CASE WHEN subscriber_id IS NOT NULL THEN human ELSE 0 END) AS human_recipients,
           SUM(human_events) AS human_events
    FROM (
        SELECT kind, subscriber_id, COUNT(*) AS n,
               MAX(CASE WHEN machine THEN 0 ELSE 1 END) AS human,
               SUM(CASE WHEN machine THEN 0 ELSE 1 END) AS human_events
        FROM events WHERE campaign_id = :campaign
        GROUP BY kind, subscriber_id
    ) AS per_recipient
    GROUP BY kind
    """
)

_BY_LINK = sa.text(
    """
    SELECT event_urls.url AS url, per_link.clicks, per_link.recipients,
           per_link.human_clicks, per_link.human_recipients
    FROM (
        SELECT url_id, SUM(n) AS clicks, COUNT(subscriber_id) AS recipients,
               SUM(human_events) AS human_clicks,
               SUM(CASE WHEN subscriber_id IS NOT NULL THEN human ELSE 0 END)
                   AS human_recipients
        FROM (
            SELECT url_id, subscriber_id, COUNT(*) AS n,
                   MAX(CASE WHEN machine THEN 0 ELSE 1 END) AS human,
                   SUM(CASE WHEN machine THEN 0 ELSE 1 END) AS human_events
            FROM events
            WHERE campaign_id = :campaign AND kind = 'click' AND url_id IS NOT NULL
            GROUP BY url_id, subscriber_id
        ) AS per_recipient
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

_SPAN = sa.text(
    """
    SELECT kind, MIN(occurred_at) AS first, MAX(occurred_at) AS last
    FROM events WHERE campaign_id = :campaign GROUP BY kind
    """
)
_IN_HOUR = sa.text(
    """
    SELECT COUNT(*) FROM events
    WHERE campaign_id = :campaign AND kind = :kind
      AND occurred_at >= :start AND occurred_at < :start + 3600
    """
)

HOUR = 3600


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
    rows = connection.execute(_BY_KIND, {"campaign": campaign_id})
    return {
        row.kind: KindCounts(
            int(row.events), int(row.recipients), int(row.human_recipients), int(row.human_events)
        )
        for row in rows
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
    hours with no event are left out. One range count per kind and hour, from the kind's
    first event to its last: SQLite has no hashed grouping, and sorting millions of events
    by hour would cost more."""
    spans = {
        row.kind: (int(row.first), int(row.last))
        for row in connection.execute(_SPAN, {"campaign": campaign_id})
    }
    found: dict[int, dict[str, int]] = {}
    for kind, (first, last) in sorted(spans.items()):
        for hour in range(first // HOUR * HOUR, last + 1, HOUR):
            count = connection.execute(
                _IN_HOUR, {"campaign": campaign_id, "kind": kind, "start": hour}
            ).scalar_one()
            if count:
                found.setdefault(hour, {})[kind] = int(count)
    return dict(sorted(found.items()))
