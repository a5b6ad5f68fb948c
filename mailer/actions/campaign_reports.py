"""A campaign's report and its recipients as the admin app shows them, for anyone who may
read: the report service's figures with the opens and clicks of each hour (machine opens
and automated clicks apart), and the recipients a page at a time, chosen by the ledger's
status, the events' outcome and whether they opened or clicked."""

from __future__ import annotations

from dataclasses import dataclass

from mailer.accounts.roles import Permission, Principal
from mailer.actions import campaigns as campaign_actions
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.db.tables import DELIVERY_OUTCOMES, DELIVERY_STATUSES
from mailer.delivery.campaigns import Campaign
from mailer.delivery.recipient_activity import (
    NO_OUTCOME,
    Activity,
    RecipientActivity,
    RecipientFilter,
    recipient_activity,
)
from mailer.errors import FieldError
from mailer.events.report import CampaignReport
from mailer.events.report_hours import EngagementHour, engagement_hours

OUTCOME_CHOICES = (*DELIVERY_OUTCOMES, NO_OUTCOME)
ACTIVITY_CHOICES = tuple(activity.value for activity in Activity)


@dataclass(frozen=True)
class ReportView:
    report: CampaignReport
    hours: list[EngagementHour]
    """Hours with an open or a click, in order."""


def campaign(mailer: Mailer, principal: Principal, campaign_id: int) -> Campaign:
    """The campaign (NotFoundError for no such campaign)."""
    return campaign_actions.show_campaign(mailer, principal, campaign_id)


def report_view(mailer: Mailer, principal: Principal, campaign_id: int) -> ReportView:
    """The campaign's report (NotFoundError for no such campaign) and its hours."""
    report = campaign_actions.campaign_report(mailer, principal, campaign_id)
    return ReportView(report, engagement_hours(mailer.engine, campaign_id))


def recipient_filter(status: str, outcome: str, activity: str) -> RecipientFilter:
    """The filter from what was asked ("" for any), a FieldError naming the field for a
    value that is none of its choices."""
    for field, value, choices in (
        ("status", status, DELIVERY_STATUSES),
        ("outcome", outcome, OUTCOME_CHOICES),
        ("activity", activity, ACTIVITY_CHOICES),
    ):
        if value and value not in choices:
            raise FieldError(field, f"must be one of {', '.join(choices)}", value[:40])
    return RecipientFilter(
        status or None, outcome or None, Activity(activity) if activity else None
    )


def recipients_page(
    mailer: Mailer,
    principal: Principal,
    campaign_id: int,
    chosen: RecipientFilter,
    *,
    after: int | None,
    limit: int,
) -> Page[RecipientActivity, int]:
    """The campaign's recipients matching ``chosen`` after the subscriber ``after``, in
    subscriber id order (NotFoundError for no such campaign)."""
    principal.require(Permission.READ)
    campaign_actions.show_campaign(mailer, principal, campaign_id)
    rows = recipient_activity(
        mailer.engine, campaign_id, chosen, after=after or 0, limit=check_limit(limit) + 1
    )
    return page_of(rows, limit, lambda row: row.subscriber_id)
