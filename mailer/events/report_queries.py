"""The aggregate queries behind a campaign's report, each one pass over the campaign's events.

The ``(campaign_id, kind)`` index finds the campaign's events; the timeline is one grouping
by kind and hour.
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

# Each kind's events per hour, in one pass: the (campaign_id, kind) index finds the rows.
_BY_HOUR = sa.text(
    """
    SELECT kind, occurred_at / 3600 AS hour, COUNT(*) AS events
    FROM events WHERE campaign_id = :campaign
    GROUP BY kind, occurred_at / 3600
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
    hours with no event are left out."""
    found: dict[int, dict[str, int]] = {}
    for row in connection.execute(_BY_HOUR, {"campaign": campaign_id}):
        found.setdefault(int(row.hour) * HOUR, {})[row.kind] = int(row.events)
    return {hour: dict(sorted(found[hour].items())) for hour in sorted(found)}
