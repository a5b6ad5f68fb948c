"""A campaign's report: what its ledger says was sent, and what SendGrid's events say
happened next (delivered, deferred, bounced, dropped, reported as spam, unsubscribed, opened,
clicked), with each link's clicks and a timeline by hour.

How things are counted:

- Recipients are counted once per kind of event ("unique"), events as they came ("total").
  Events of no known subscriber count in the totals only.
- Opens "without machine opens" leave out opens SendGrid marked ``sg_machine_open`` (Apple
  Mail Privacy Protection opens every mail it fetches); clicks "without automated clicks"
  leave out clicks marked automated when they were stored. A recipient counts there if at
  least one of their opens (clicks) was not a machine's.
- The click-through rate is unique clickers over unique recipients delivered.
- Unsubscribes: SendGrid's own (``unsubscribe`` and ``group_unsubscribe`` events) carry the
  campaign and are counted exactly. Mailer's one-click and page unsubscribes are recorded per
  list, not per mail, so a campaign is credited with those on its list from its start until
  the next campaign to that list started (or now): a reader who unsubscribes through an
  older issue's link in that time is counted here too.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import campaigns, consent_events
from mailer.delivery.campaigns import Campaign, find_campaign, iso
from mailer.events import report_queries, report_recount
from mailer.events.report_queries import (
    KindCounts,
    LinkCounts,
    ReasonCounts,
    bounces,
    drops,
)

NONE = KindCounts(0, 0, 0, 0)
# consent_events.source of mailer's own unsubscribe links.
ONE_CLICK = "one-click"
PAGE = "unsubscribe page"


@dataclass(frozen=True)
class ListUnsubscribes:
    one_click: int
    page: int
    since: datetime | None
    until: datetime | None
    """The window they were counted in (until None: still open)."""


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    kinds: dict[str, KindCounts]
    links: list[LinkCounts]
    bounces: list[ReasonCounts]
    drops: list[ReasonCounts]
    unsubscribes: ListUnsubscribes
    timeline: dict[int, dict[str, int]]

    def kind(self, name: str) -> KindCounts:
        return self.kinds.get(name, NONE)

    @property
    def delivered(self) -> int:
        return self.kind("delivered").recipients

    def rate(self, clickers: int) -> float | None:
        return round(clickers / self.delivered, 6) if self.delivered else None

    def bounced(self, bounce_type: str) -> int:
        return sum(row.recipients for row in self.bounces if row.bounce_type == bounce_type)

    @property
    def sendgrid_unsubscribes(self) -> int:
        return self.kind("unsubscribe").recipients + self.kind("group_unsubscribe").recipients

    def as_json(self) -> dict[str, Any]:
        campaign = self.campaign
        opens, clicks = self.kind("open"), self.kind("click")
        return {
            "campaign": {
                "id": campaign.id,
                "issue": campaign.issue_number,
                "list": campaign.list_name,
                "status": campaign.status,
                "started_at": iso(campaign.started_at),
                "finished_at": iso(campaign.finished_at),
            },
            "ledger": dict(campaign.counts),
            "sent": campaign.counts.get("sent", 0),
            "processed": self.kind("processed").recipients,
            "delivered": self.delivered,
            "deferred": {
                "recipients": self.kind("deferred").recipients,
                "events": self.kind("deferred").events,
            },
            "bounced": {
                "permanent": self.bounced("bounce"),
                "temporary": self.bounced("blocked"),
                "by_classification": [
                    {
                        "type": row.bounce_type,
                        "classification": row.reason,
                        "recipients": row.recipients,
                        "events": row.events,
                    }
                    for row in self.bounces
                ],
            },
            "dropped": {
                "recipients": self.kind("dropped").recipients,
                "by_reason": [
                    {"reason": row.reason, "recipients": row.recipients, "events": row.events}
                    for row in self.drops
                ],
            },
            "spam_reports": self.kind("spamreport").recipients,
            "unsubscribes": {
                "one_click": self.unsubscribes.one_click,
                "page": self.unsubscribes.page,
                "sendgrid": self.sendgrid_unsubscribes,
                "counted_from": iso(self.unsubscribes.since),
                "counted_until": iso(self.unsubscribes.until),
            },
            "opens": {
                "unique": opens.recipients,
                "unique_without_machine": opens.human_recipients,
                "total": opens.events,
                "total_without_machine": opens.human_events,
            },
            "clicks": {
                "unique": clicks.recipients,
                "unique_without_automated": clicks.human_recipients,
                "total": clicks.events,
                "total_without_automated": clicks.human_events,
            },
            "click_through_rate": self.rate(clicks.recipients),
            "click_through_rate_without_automated": self.rate(clicks.human_recipients),
            "links": [
                {
                    "url": link.url,
                    "unique": link.recipients,
                    "total": link.clicks,
                    "unique_without_automated": link.human_recipients,
                    "total_without_automated": link.human_clicks,
                }
                for link in self.links
            ],
            "events": {name: counts.events for name, counts in sorted(self.kinds.items())},
            "timeline": [
                {"hour": hour_iso(hour), "events": counts} for hour, counts in self.timeline.items()
            ],
        }


def hour_iso(hour: int) -> str:
    return datetime.fromtimestamp(hour, UTC).isoformat().replace("+00:00", "Z")


def campaign_report(
    engine: sa.Engine, campaign_id: int, *, recount: bool = False
) -> CampaignReport:
    """The report of one campaign (CampaignNotFound if there is none): from the tallies kept
    as events are stored, or with ``recount`` from the stored events themselves.

    From the tallies, the pass over the ledger rows counting their states (most of the time
    on a big campaign) runs beside the other queries, each on a connection of its own: the
    two parts may be read a moment apart while events are still coming in."""
    if recount:
        return _recounted(engine, campaign_id)
    with ThreadPoolExecutor(max_workers=1) as pool:
        from_events = pool.submit(_event_parts, engine, campaign_id)
        with engine.connect() as connection:
            tally = report_queries.ledger_states(connection, campaign_id)
            campaign = find_campaign(connection, campaign_id, tally)
            unsubscribes = list_unsubscribes(connection, campaign)
        parts = from_events.result()
    kinds = report_queries.counts_by_kind(parts.tallies, parts.unsubscribers, parts.recipients)
    return CampaignReport(
        campaign=campaign,
        kinds=kinds,
        links=parts.links,
        bounces=parts.bounces,
        drops=parts.drops,
        unsubscribes=unsubscribes,
        timeline=report_queries.hourly(parts.tallies),
    )


@dataclass(frozen=True)
class _EventParts:
    recipients: report_queries.Recipients
    tallies: list[report_queries.Tally]
    unsubscribers: dict[str, int]
    links: list[LinkCounts]
    bounces: list[ReasonCounts]
    drops: list[ReasonCounts]


def _event_parts(engine: sa.Engine, campaign_id: int) -> _EventParts:
    with engine.connect() as connection:
        return _EventParts(
            report_queries.ledger_recipients(connection, campaign_id),
            report_queries.tallies(connection, campaign_id),
            report_queries.unsubscribers(connection, campaign_id),
            report_queries.counts_by_link(connection, campaign_id),
            bounces(connection, campaign_id),
            drops(connection, campaign_id),
        )


def _recounted(engine: sa.Engine, campaign_id: int) -> CampaignReport:
    with engine.connect() as connection:
        campaign = find_campaign(connection, campaign_id)
        return CampaignReport(
            campaign=campaign,
            kinds=report_recount.counts_by_kind(connection, campaign_id),
            links=report_recount.counts_by_link(connection, campaign_id),
            bounces=bounces(connection, campaign_id),
            drops=drops(connection, campaign_id),
            unsubscribes=list_unsubscribes(connection, campaign),
            timeline=report_recount.hourly(connection, campaign_id),
        )


def list_unsubscribes(connection: sa.Connection, campaign: Campaign) -> ListUnsubscribes:
    """Unsubscribes from the campaign's list through mailer's links, from its start until
    the next campaign to that list started."""
    since = campaign.started_at
    if since is None:
        return ListUnsubscribes(0, 0, None, None)
    until = connection.execute(
        sa.select(sa.func.min(campaigns.c.started_at)).where(
            campaigns.c.list_name == campaign.list_name,
            campaigns.c.started_at > since,
            campaigns.c.id != campaign.id,
        )
    ).scalar_one()
    window = [
        consent_events.c.list_name == campaign.list_name,
        consent_events.c.action == "unsubscribe",
        consent_events.c.source.in_([ONE_CLICK, PAGE]),
        consent_events.c.created_at >= since,
    ]
    if until is not None:
        window.append(consent_events.c.created_at < until)
    counts: dict[str, int] = dict(
        connection.execute(
            sa.select(
                consent_events.c.source,
                sa.func.count(sa.distinct(consent_events.c.subscriber_id)),
            )
            .where(*window)
            .group_by(consent_events.c.source)
        ).all()
    )
    return ListUnsubscribes(counts.get(ONE_CLICK, 0), counts.get(PAGE, 0), since, until)
