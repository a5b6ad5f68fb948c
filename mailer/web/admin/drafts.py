"""A campaign draft's own actions in the admin app: ``/admin/campaigns/{id}/edit`` (the new
campaign's form, filled in with the draft; ``edit_issues``), ``POST .../delete``
(``edit_issues``), ``POST .../send`` and ``POST .../schedule`` (``send``: at the time the form
gives, else the draft's own). Drafts are saved from ``/admin/campaigns/new``
(``mailer.web.admin.campaigns``). Everything is decided by ``mailer.actions.drafts``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Permission
from mailer.actions import campaigns as campaign_actions
from mailer.actions import drafts as actions
from mailer.app import Mailer
from mailer.delivery.campaigns import Campaign
from mailer.delivery.send_guards import AlreadySent
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError
from mailer.web.admin._guard import requires, site_path
from mailer.web.admin._session import principal_of
from mailer.web.admin.campaigns import (
    PATH,
    _campaign_id,
    _campaign_page,
    _field_errors,
    _mailer,
    _new_page,
    _values,
    forbidden_page,
    send_request,
)
from mailer.web.strings import STRINGS


def _form_values(campaign: Campaign) -> dict[str, str]:
    """The form as the draft fills it: its time written in its zone, as an editor types one."""
    at = ""
    if campaign.scheduled_at is not None:
        local = campaign.scheduled_at.astimezone(ZoneInfo(campaign.zone or "UTC"))
        at = f"{local:%Y-%m-%d %H:%M}"
    when = "local" if campaign.local_time else "at" if at else "now"
    return {
        "issue": str(campaign.issue_number),
        "list": campaign.list_name,
        "segment": campaign.segment or "",
        "when": when,
        "at": at,
        "timezone": campaign.zone or "",
        "local_time": campaign.local_time or "",
    }


def _refused(request: Request, exc: MailerError) -> Response:
    """The draft's page with why the action was refused (its state: 409)."""
    if isinstance(exc, Forbidden):
        return forbidden_page(request, exc)
    if isinstance(exc, NotFoundError):
        return _campaign_page(request)  # the page says there is no such campaign
    status = 409 if isinstance(exc, ConflictError) else 422 if isinstance(exc, FieldError) else 400
    if isinstance(exc, AlreadySent):
        return _campaign_page(
            request, error=STRINGS.campaigns.already_sent.format(problem=exc), status=status
        )
    if isinstance(exc, FieldError) and exc.field == "allow_draft":
        problem = STRINGS.campaigns.draft_issue.format(problem=exc.problem)
        return _campaign_page(request, error=problem, status=status)
    return _campaign_page(request, error=str(exc), status=status)


@requires(Permission.EDIT_ISSUES)
def edit_form(request: Request) -> Response:
    """The form filled in with the draft (or, after "Count recipients" without script, with
    what was typed)."""
    mailer, principal = _mailer(request), principal_of(request)
    try:
        found = campaign_actions.show_campaign(mailer, principal, _campaign_id(request))
    except NotFoundError:
        return _campaign_page(request)
    if found.status != "draft":
        conflict = f"campaign {found.id} is {found.status}; only a draft campaign can be edited"
        return _campaign_page(request, error=conflict, status=409)
    typed = dict(request.query_params)
    values = _values(typed) if typed else _form_values(found)
    return _new_page(request, values, {}, draft_id=found.id)


@requires(Permission.EDIT_ISSUES)
async def save_edit(request: Request) -> Response:
    async with request.form() as form:
        values = _values(form)
    return await run_in_threadpool(_save_edit, request, values)


def _save_edit(request: Request, values: dict[str, str]) -> Response:
    campaign_id = _campaign_id(request)
    try:
        asked = send_request(values)
        actions.edit_draft(_mailer(request), principal_of(request), campaign_id, asked)
    except (Forbidden, NotFoundError, ConflictError) as exc:
        return _refused(request, exc)
    except MailerError as exc:
        return _new_page(request, values, _field_errors(exc), status=422, draft_id=campaign_id)
    return RedirectResponse(site_path(request, f"{PATH}/{campaign_id}"), status_code=303)


@requires(Permission.EDIT_ISSUES)
async def delete(request: Request) -> Response:
    return await run_in_threadpool(_delete, request)


def _delete(request: Request) -> Response:
    try:
        actions.delete_draft(_mailer(request), principal_of(request), _campaign_id(request))
    except MailerError as exc:
        return _refused(request, exc)
    return RedirectResponse(site_path(request, PATH), status_code=303)


def _anyway(form: FormData | dict[str, str]) -> dict[str, bool]:
    """The boxes that send it anyway: ticked is any value, unticked is not sent at all."""
    return {name: bool(form.get(name)) for name in ("again", "allow_draft")}


@requires(Permission.SEND)
async def send(request: Request) -> Response:
    async with request.form() as form:
        anyway = _anyway(form)
    return await run_in_threadpool(_send, request, anyway)


def _send(request: Request, anyway: dict[str, bool]) -> Response:
    try:
        sent = actions.send_draft(
            _mailer(request), principal_of(request), _campaign_id(request), **anyway
        )
    except MailerError as exc:
        return _refused(request, exc)
    text = STRINGS.campaigns.done_text("send")
    return _campaign_page(request, notice=text.format(id=sent.campaign.id))


@requires(Permission.SEND)
async def schedule(request: Request) -> Response:
    async with request.form() as form:
        values = _values(form)
        anyway = _anyway(form)
    return await run_in_threadpool(_schedule, request, values, anyway)


def _schedule(request: Request, values: dict[str, str], anyway: dict[str, bool]) -> Response:
    at, local_time = values["at"] or None, values["local_time"] or None
    # The zone is always filled in: it says something only with a time.
    timezone = values["timezone"] or None if at else None
    try:
        done = actions.schedule_draft(
            _mailer(request),
            principal_of(request),
            _campaign_id(request),
            at=at,
            timezone=timezone,
            local_time=local_time,
            **anyway,
        )
    except MailerError as exc:
        return _refused(request, exc)
    text = STRINGS.campaigns.done_text("schedule")
    return _campaign_page(request, notice=text.format(id=done.campaign.id))


def routes(mailer: Mailer) -> list[BaseRoute]:
    one = f"{PATH}/{{campaign_id:int}}"
    return [
        Route(f"{one}/edit", edit_form, methods=["GET"], name="admin_draft_edit_form"),
        Route(f"{one}/edit", save_edit, methods=["POST"], name="admin_draft_edit"),
        Route(f"{one}/delete", delete, methods=["POST"], name="admin_draft_delete"),
        Route(f"{one}/send", send, methods=["POST"], name="admin_draft_send"),
        Route(f"{one}/schedule", schedule, methods=["POST"], name="admin_draft_schedule"),
    ]
