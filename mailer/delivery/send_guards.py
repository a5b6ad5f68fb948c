"""Guards against two expensive mistakes before a campaign is made: sending an issue to a list
that already got it (or is about to: a campaign of it to the list is scheduled, sending,
paused or failed part-way), and sending an issue its front matter still marks a draft.

Each refusal says what it is about in the core's words; how to send anyway (``--again``, a
request's ``again`` field, a form's checkbox) is each face's to add. A cancelled or missed
campaign, a draft campaign and a test send do not count as the list having got the issue.
"""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.tables import campaigns
from mailer.delivery.campaign_states import CampaignStatus
from mailer.delivery.campaigns import Campaign, find_campaign
from mailer.errors import ConflictError, LocatedError
from mailer.render.pipeline import RenderedEmail
from mailer.scheduling.one_off import shown

S = CampaignStatus
# The states in which the list has got the issue, is getting it, or will when it comes due.
TAKEN = (S.scheduled, S.sending, S.paused, S.sent, S.failed)


class AlreadySent(ConflictError):
    """The issue went (or is going) to the list already, in ``campaign_id``."""

    def __init__(self, campaign_id: int, message: str) -> None:
        self.campaign_id = campaign_id
        super().__init__(message)

    def __reduce__(self) -> tuple[type[AlreadySent], tuple[int, str]]:
        return (type(self), (self.campaign_id, str(self)))


class DraftIssue(LocatedError):
    """The issue's front matter marks it a draft (or says nothing, which makes it one)."""


def earlier_campaign(
    connection: sa.Connection, issue_number: int, list_id: int, sending: int | None = None
) -> Campaign | None:
    """The newest campaign of the issue to the list that counts as the list having got it;
    never ``sending`` itself (a draft being sent, which a race may have sent meanwhile: that
    refusal is its state's)."""
    found = connection.execute(
        sa.select(campaigns.c.id)
        .where(
            campaigns.c.issue_number == issue_number,
            campaigns.c.list_id == list_id,
            campaigns.c.status.in_([state.value for state in TAKEN]),
            campaigns.c.id != (sending or 0),
        )
        .order_by(campaigns.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else find_campaign(connection, int(found))


def _state(campaign: Campaign, zone: str) -> str:
    """``sent, finished 2026-11-24 09:10 CST (…Z)``: the state and the time that says most."""
    at = zone if campaign.zone is None else campaign.zone
    if campaign.status == S.scheduled and campaign.scheduled_at is not None:
        return f"scheduled for {shown(campaign.scheduled_at, at)}"
    finished = campaign.finished_at or campaign.started_at
    if campaign.status == S.sent and finished is not None:
        return f"sent, finished {shown(finished, at)}"
    if campaign.started_at is not None:
        return f"{campaign.status}, started {shown(campaign.started_at, at)}"
    if campaign.scheduled_at is not None:  # paused before its time came
        return (
            f"{campaign.status} before it started (it was due {shown(campaign.scheduled_at, at)})"
        )
    return f"{campaign.status}, made {shown(campaign.created_at, at)}"


def check_not_sent(
    engine: sa.Engine,
    issue_number: int,
    list_id: int,
    list_name: str,
    zone: str,
    sending: int | None = None,
) -> None:
    """AlreadySent naming the earlier campaign (its id, state and when) if there is one
    (other than ``sending``, a draft being sent); ``zone`` shows its times when it has none
    of its own (one sent at once)."""
    with engine.connect() as connection:
        earlier = earlier_campaign(connection, issue_number, list_id, sending)
    if earlier is None:
        return
    waiting = earlier.started_at is None
    lead = "is already due to go" if waiting else "already went"
    raise AlreadySent(
        earlier.id,
        f"issue #{issue_number} {lead} to the list {list_name!r}: campaign {earlier.id} is "
        f"{_state(earlier, zone)}",
    )


def check_not_draft(rendered: RenderedEmail) -> None:
    """DraftIssue naming the file and its status line when the issue is still a draft."""
    issue = rendered.issue
    if issue.meta.status != "draft":
        return
    if issue.status_line is None:
        raise DraftIssue(
            issue.path,
            None,
            "the front matter has no status line, so the issue is a draft; a draft is not "
            "sent to a list (add `status: ready` when it is ready)",
        )
    raise DraftIssue(
        issue.path,
        issue.status_line,
        "status: draft; a draft is not sent to a list (set `status: ready` when it is ready)",
    )
