"""A campaign's report counted from its stored events themselves: the reference the
running tallies (``report_queries``) are checked against, chosen with ``campaigns report
--recount``. Slow on a big campaign: it reads every event of it.

Recipients here are the subscribers named by events; in ``report_queries`` they are the
campaign's ledger rows, which are the same people unless a person was erased since.
"""

from __future__ import annotations

import sqlalchemy as sa

from mailer.events.report_queries import KindCounts, LinkCounts, links_of

HOUR = 3600

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

# Each kind's events per hour, in one pass: the (campaign_id, kind) index finds the rows.
_BY_HOUR = sa.text(
    """
    SELECT kind, occurred_at / 3600 AS hour, COUNT(*) AS events
    FROM events WHERE campaign_id = :campaign
    GROUP BY kind, occurred_at / 3600
    """
)


def counts_by_kind(connection: sa.Connection, campaign_id: int) -> dict[str, KindCounts]:
    rows = connection.execute(_BY_KIND, {"campaign": campaign_id})
    return {
        row.kind: KindCounts(
            int(row.events), int(row.recipients), int(row.human_recipients), int(row.human_events)
        )
        for row in rows
    }


def counts_by_link(connection: sa.Connection, campaign_id: int) -> list[LinkCounts]:
    return links_of(connection.execute(_BY_LINK, {"campaign": campaign_id}))


def hourly(connection: sa.Connection, campaign_id: int) -> dict[int, dict[str, int]]:
    """Events per kind in each UTC hour (keyed by the hour's start, seconds since 1970);
    hours with no event are left out."""
    found: dict[int, dict[str, int]] = {}
    for row in connection.execute(_BY_HOUR, {"campaign": campaign_id}):
        found.setdefault(int(row.hour) * HOUR, {})[row.kind] = int(row.events)
    return {hour: dict(sorted(found[hour].items())) for hour in sorted(found)}
