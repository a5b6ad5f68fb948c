"""What the admin dashboard shows at a glance: the latest campaigns with their ledger counts
and, once SendGrid's events came, how many recipients had their mail delivered, opened and
clicked; the sends scheduled next; the lists' sizes; and the campaigns that need someone:
paused, or with recipients in doubt (a request whose answer was lost).

It stays quick however big the ledger grows: it reads only the campaigns it shows (plus the
paused, sending and failed ones, the only ones besides the latest that can need attention
now), counts only their ledger rows, and takes the event figures from the index of ledger
rows by kinds of event (``report_queries.ledger_recipients``), never from the events.
In-doubt recipients of an older campaign already marked sent are not looked for.

The lists' sizes are counted as ranges of the memberships' primary key and the partial index
of the statuses other than confirmed (``list_sizes``), side by side with the campaigns' lines,
whose ledger rows SQLite counts without sorting them all by state (``ledger_tally``).
``reference=True`` reads as before (the ledger counted by ``find_campaign``, the lists by
``all_lists`` in one grouped pass over every membership after the campaigns), so the two can
be compared; they give the same dashboard.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.lists import MailingList, all_lists
from mailer.db.tables import campaigns
from mailer.delivery.campaign_states import CampaignStatus
from mailer.delivery.campaigns import Campaign, find_campaign
from mailer.events.report_queries import ledger_recipients
from mailer.services.ledger_tally import quick_tally
from mailer.services.list_sizes import lists_with_sizes
from mailer.services.worker_health import WorkerHealth, worker_health

RECENT = 10
# Connections reading campaigns' lines at once.
PARALLEL_READS = 4
UPCOMING = 10
# Besides the latest ones, the campaigns that may need someone now.
WATCHED = (CampaignStatus.paused, CampaignStatus.sending, CampaignStatus.failed)


@dataclass(frozen=True)
class Engagement:
    delivered: int
    opened: int
    clicked: int


@dataclass(frozen=True)
class CampaignLine:
    campaign: Campaign
    engagement: Engagement | None
    """None until SendGrid's events for it arrive."""

    @property
    def in_doubt(self) -> int:
        return self.campaign.counts.get("in_doubt", 0)

    @property
    def sent(self) -> int:
        return self.campaign.counts.get("sent", 0)


@dataclass(frozen=True)
class Dashboard:
    recent: list[CampaignLine]
    upcoming: list[Campaign]
    attention: list[CampaignLine]
    lists: list[MailingList]
    worker: WorkerHealth
    """Whether a worker was seen lately; shown under attention when not."""


def _ids(connection: sa.Connection, query: sa.Select[Any]) -> list[int]:
    return [int(campaign_id) for campaign_id in connection.execute(query).scalars()]


def dashboard(mailer: Mailer, *, reference: bool = False) -> Dashboard:
    with mailer.engine.connect() as connection:
        recent = _ids(
            connection, sa.select(campaigns.c.id).order_by(campaigns.c.id.desc()).limit(RECENT)
        )
        upcoming = _ids(
            connection,
            sa.select(campaigns.c.id)
            .where(campaigns.c.status == CampaignStatus.scheduled.value)
            .order_by(campaigns.c.scheduled_at, campaigns.c.id)
            .limit(UPCOMING),
        )
        watched = _ids(
            connection,
            sa.select(campaigns.c.id)
            .where(campaigns.c.status.in_([status.value for status in WATCHED]))
            .order_by(campaigns.c.id.desc()),
        )
        scheduled = [find_campaign(connection, campaign_id) for campaign_id in upcoming]
    shown = list(dict.fromkeys([*recent, *watched]))
    if reference:
        lines, mailing_lists = _lines(mailer.engine, shown), all_lists(mailer.engine)
    else:
        lines, mailing_lists = _lines_and_lists(mailer.engine, shown)
    attention = [
        line
        for line in lines.values()
        if line.campaign.status == CampaignStatus.paused.value or line.in_doubt
    ]
    return Dashboard(
        recent=[lines[campaign_id] for campaign_id in recent],
        upcoming=scheduled,
        attention=sorted(attention, key=lambda line: -line.campaign.id),
        lists=mailing_lists,
        worker=worker_health(mailer),
    )


def _lines(engine: sa.Engine, campaign_ids: list[int]) -> dict[int, CampaignLine]:
    """Each campaign's line, read on connections of their own side by side: counting a big
    campaign's ledger rows is most of the dashboard's time."""
    if not campaign_ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(campaign_ids))) as pool:
        found = pool.map(lambda campaign_id: _line(engine, campaign_id), campaign_ids)
        return {line.campaign.id: line for line in found}


def _lines_and_lists(
    engine: sa.Engine, campaign_ids: list[int]
) -> tuple[dict[int, CampaignLine], list[MailingList]]:
    """The campaigns' lines and the lists' sizes, all read side by side."""
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        sizes = pool.submit(lists_with_sizes, engine)
        found: list[Future[CampaignLine]] = [
            pool.submit(_line, engine, campaign_id, quick=True) for campaign_id in campaign_ids
        ]
        lines = {line.campaign.id: line for line in (future.result() for future in found)}
        return lines, sizes.result()


def _line(engine: sa.Engine, campaign_id: int, *, quick: bool = False) -> CampaignLine:
    with engine.connect() as connection:
        return _line_of(connection, campaign_id, quick)


def _line_of(connection: sa.Connection, campaign_id: int, quick: bool) -> CampaignLine:
    tally = quick_tally(connection, campaign_id) if quick else None
    campaign = find_campaign(connection, campaign_id, tally)
    if campaign.started_at is None:
        return CampaignLine(campaign, None)
    recipients = ledger_recipients(connection, campaign_id).every
    if not any(recipients.values()):
        return CampaignLine(campaign, None)
    engagement = Engagement(
        delivered=recipients.get("delivered", 0),
        opened=recipients.get("open", 0),
        clicked=recipients.get("click", 0),
    )
    return CampaignLine(campaign, engagement)
