"""``/campaigns``: read with any token; sent or scheduled with one that may send (drafts:
``mailer.api.drafts``); paused,
resumed, rescheduled, cancelled and resolved with one whose role manages campaigns, each only
when the campaign's state allows it (409 naming the state when not).

A campaign sent now is stored for ``mailer worker`` to send: the answer comes at once, with
the campaign sending, and its counts show the progress."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mailer.accounts.roles import Permission, Principal
from mailer.actions import campaigns as actions
from mailer.actions import drafts as draft_actions
from mailer.api.auth import AppMailer, Reader, authorized
from mailer.api.lists import NAME_PATTERN
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.api.text import ONE_LINE, one_line
from mailer.db.tables import DELIVERY_STATUSES
from mailer.delivery.campaign_states import EditorAction
from mailer.delivery.campaigns import Campaign
from mailer.delivery.ledger_listing import RecipientRow
from mailer.delivery.send_guards import AlreadySent

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
CampaignManager = Annotated[Principal, Depends(authorized(Permission.MANAGE_CAMPAIGNS))]

CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The campaign's number.")]
INPUT = ConfigDict(extra="forbid", strict=True)


At = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="When: `2026-11-23T09:00`, `2026-11-23 09:00`, `tomorrow 09:00` or `+2h`, "
        "read in `timezone`. A time that has passed, or that the zone skips or passes twice "
        "(daylight saving), is refused saying what to give instead.",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]
Timezone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The IANA zone `at` is in (default: the newsletter's), e.g. `Asia/Shanghai`.",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]

Again = Annotated[
    bool,
    Field(
        description="Send even though the list got the issue already, or a campaign of it to "
        "the list is scheduled, sending, paused or failed (without it: 409 naming that "
        "campaign). Cancelled and missed campaigns and test sends do not count."
    ),
]
AllowDraft = Annotated[
    bool,
    Field(
        description="Send even though the issue's front matter says `status: draft` (or has "
        "no status line); without it: 422 for `allow_draft` naming the file and the line."
    ),
]


class CampaignOut(BaseModel):
    id: int
    issue: int = Field(description="The issue's number.")
    list: str
    segment: str | None = Field(description="Only the list's members matching it, when set.")
    transport: str
    status: str = Field(
        description="draft, scheduled, sending, paused, sent, cancelled, failed or missed."
    )
    message: str = Field(description="What happened last, in words (why it is paused...).")
    subject: str | None
    created_at: datetime
    scheduled_at: datetime | None = Field(description="When it is due (UTC).")
    started_at: datetime | None
    finished_at: datetime | None
    zone: str | None = Field(description="The zone its time was given in.")
    local_time: str | None = Field(description="HH:MM in each subscriber's own zone.")
    schedule: str | None = Field(description="The recurring schedule that made it.")
    counts: dict[str, int] = Field(
        description="The ledger: `total`, and how many recipients are in each state."
    )
    actions: builtins.list[EditorAction] = Field(
        description="What may be done to it now: `POST /campaigns/{id}/{action}` (a draft's "
        "`edit` is `PATCH /campaigns/{id}`, its `delete` is `DELETE /campaigns/{id}`)."
    )

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            id=campaign.id,
            issue=campaign.issue_number,
            list=campaign.list_name,
            segment=campaign.segment,
            transport=campaign.transport,
            status=campaign.status,
            message=campaign.message,
            subject=campaign.subject,
            created_at=campaign.created_at,
            scheduled_at=campaign.scheduled_at,
            started_at=campaign.started_at,
            finished_at=campaign.finished_at,
            zone=campaign.zone,
            local_time=campaign.local_time,
            schedule=campaign.schedule_name,
            counts=campaign.counts,
            actions=campaign.actions,
        )


class CampaignIn(BaseModel):
    """Send an issue to a list now (no `at` or `local_time`) or schedule it."""

    model_config = INPUT
    issue: int = Field(ge=1, le=actions.ISSUE_MAX, description="The issue's number.")
    list: str = Field(pattern=NAME_PATTERN, description="The list's name.")
    segment: Annotated[
        str | None,
        Field(
            max_length=2000,
            description='Only members matching it, e.g. `country = "CN"`.',
            json_schema_extra=ONE_LINE,
        ),
        AfterValidator(lambda value: None if value is None else one_line(value)),
    ] = None
    at: At | None = None
    timezone: Timezone | None = None
    local_time: str | None = Field(
        None,
        pattern=r"^[0-9]{1,2}:[0-9]{2}$",
        description="Deliver to each subscriber at this time of day (HH:MM) in their own "
        "zone, the first time it comes round after `at` (else now).",
    )
    draft: bool = Field(
        False,
        description="Save it as a draft instead (a token that edits issues): nothing is sent "
        "or due, its time is a plan; `POST /campaigns/{id}/send` or `/schedule` sends it.",
    )
    again: Again = False
    allow_draft: AllowDraft = False


class RescheduleIn(BaseModel):
    """For `reschedule` only: the new time."""

    model_config = INPUT
    at: At
    timezone: Timezone | None = None


class RecipientOut(BaseModel):
    subscriber_id: int
    email: str
    name: str
    status: str = Field(description="The recipient's state in the ledger.")
    reason: str | None = Field(description="Why it failed, was skipped or is in doubt.")
    batch: int | None
    updated_at: datetime

    @classmethod
    def of(cls, row: RecipientRow) -> RecipientOut:
        return cls(
            subscriber_id=row.subscriber_id,
            email=row.email,
            name=row.name,
            status=row.status,
            reason=row.reason,
            batch=row.batch_id,
            updated_at=row.updated_at,
        )


@contextmanager
def again_said() -> Iterator[None]:
    """A send the list got already is a 409 that says which field sends it anyway."""
    try:
        yield
    except AlreadySent as exc:
        raise AlreadySent(exc.campaign_id, f"{exc}; `again: true` sends it anyway") from None


def _after(cursors: Cursors, cursor: str | None) -> int | None:
    return None if cursor is None else int(cursors.decode(cursor, 1)[0])


def _next(cursors: Cursors, after: int | None) -> str | None:
    return None if after is None else cursors.encode([str(after)])


@router.get(
    "",
    summary="Campaigns: upcoming sends first (soonest first), then the rest, newest first",
    response_model=Page[CampaignOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_campaigns(
    mailer: AppMailer, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[CampaignOut]:
    cursors = Cursors(mailer.signing_key, "campaigns")
    page = actions.campaigns_page(mailer, principal, after=_after(cursors, cursor), limit=limit)
    return Page[CampaignOut](
        items=[CampaignOut.of(found) for found in page.items],
        next_cursor=_next(cursors, page.next_after),
    )


@router.post(
    "",
    summary="Send an issue to a list now, schedule it, or save it as a draft",
    description="Needs a token that may send (a draft: one that edits issues, editors and "
    "up). Sent now, the campaign is `sending` at once and `mailer worker` sends it; "
    "scheduled, the worker starts it at its time; a draft waits for `POST "
    "/campaigns/{id}/send` or `/schedule`.",
    status_code=201,
    response_model=CampaignOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500),
)
def post_campaign(
    mailer: AppMailer, principal: Reader, body: CampaignIn, request: Request, response: Response
) -> CampaignOut:
    asked = actions.SendRequest(
        issue=body.issue,
        list_name=body.list,
        segment=body.segment,
        at=body.at,
        timezone=body.timezone,
        local_time=body.local_time,
        again=body.again,
        allow_draft=body.allow_draft,
    )
    if body.draft:  # the actions layer asks for the permission each needs
        made = draft_actions.create_draft(mailer, principal, asked)
    else:
        with again_said():
            made = actions.create_campaign(mailer, principal, asked).campaign
    where = request.app.url_path_for("get_campaign", campaign_id=str(made.id))
    response.headers["Location"] = request.scope.get("root_path", "") + where
    return CampaignOut.of(made)


@router.get(
    "/{campaign_id}",
    summary="A campaign",
    response_model=CampaignOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_campaign(mailer: AppMailer, principal: Reader, campaign_id: CampaignId) -> CampaignOut:
    return CampaignOut.of(actions.show_campaign(mailer, principal, campaign_id))


ACTION_SUMMARIES = {
    EditorAction.pause: "Pause a campaign (before its next batch)",
    EditorAction.resume: "Resume a paused, failed or interrupted campaign",
    EditorAction.cancel: "Cancel a campaign for good (what was sent stays sent)",
    EditorAction.resend: "Send the recipients in doubt again (`mailer worker` sends them)",
    EditorAction.mark_sent: "Count the recipients in doubt as sent",
}
ACTION_DESCRIPTION = (
    "Allowed only when the campaign's `actions` list it; otherwise a 409 naming its state."
)
ACTION_RESPONSES = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500)


def _action_endpoint(action: EditorAction) -> Callable[..., CampaignOut]:
    def endpoint(
        mailer: AppMailer, principal: CampaignManager, campaign_id: CampaignId
    ) -> CampaignOut:
        return CampaignOut.of(actions.act(mailer, principal, campaign_id, action))

    return endpoint


for _action, _summary in ACTION_SUMMARIES.items():
    router.add_api_route(
        f"/{{campaign_id}}/{_action.value}",
        _action_endpoint(_action),
        methods=["POST"],
        name=f"post_campaign_{_action.value}",
        summary=_summary,
        description=ACTION_DESCRIPTION,
        response_model=CampaignOut,
        responses=ACTION_RESPONSES,
    )


@router.post(
    "/{campaign_id}/reschedule",
    summary="Move a scheduled (or missed) campaign to another time",
    description=ACTION_DESCRIPTION,
    response_model=CampaignOut,
    responses=ACTION_RESPONSES,
)
def post_campaign_reschedule(
    mailer: AppMailer, principal: CampaignManager, campaign_id: CampaignId, body: RescheduleIn
) -> CampaignOut:
    moved = actions.act(
        mailer,
        principal,
        campaign_id,
        EditorAction.reschedule,
        at=body.at,
        timezone=body.timezone,
    )
    return CampaignOut.of(moved)


@router.get(
    "/{campaign_id}/report",
    summary="What happened to a campaign's mail",
    description="The ledger, and from the provider's events: processed, delivered, "
    "deferred, bounced, opened, clicked, unsubscribed (as `mailer report --json`).",
    response_model=dict[str, Any],
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_campaign_report(
    mailer: AppMailer, principal: Reader, campaign_id: CampaignId
) -> dict[str, Any]:
    found: dict[str, Any] = actions.campaign_report(mailer, principal, campaign_id).as_json()
    return found


RecipientStatus = Annotated[
    str | None,
    Query(
        pattern=f"^({'|'.join(DELIVERY_STATUSES)})$",
        description=f"Only recipients in this state: {', '.join(DELIVERY_STATUSES)}.",
    ),
]


@router.get(
    "/{campaign_id}/recipients",
    summary="A campaign's recipients and what happened to each, by subscriber id",
    response_model=Page[RecipientOut],
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_campaign_recipients(
    mailer: AppMailer,
    principal: Reader,
    campaign_id: CampaignId,
    status: RecipientStatus = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RecipientOut]:
    cursors = Cursors(mailer.signing_key, f"recipients-{campaign_id}")
    page = actions.recipients_page(
        mailer, principal, campaign_id, status=status, after=_after(cursors, cursor), limit=limit
    )
    return Page[RecipientOut](
        items=[RecipientOut.of(row) for row in page.items],
        next_cursor=_next(cursors, page.next_after),
    )
