"""Campaigns: ``GET /admin/campaigns`` (upcoming first, with local and UTC times, then the
newest), ``/admin/campaigns/new`` (the form, for those who edit issues; GET with a list counts
its audience, POST saves a draft, or sends or schedules with ``send``),
``/admin/campaigns/{id}`` (details, the actions its state allows the user, and while it sends
a progress fragment htmx polls every 2 s, ``/progress``) and ``POST
/admin/campaigns/{id}/{action}`` (``manage_campaigns``; a draft's own actions are in
``drafts``). Everything is decided by ``mailer.actions.campaigns``; a send is left to
``mailer worker``, never done in the request. Every page works without script: forms post and
answer with the page, the progress has a refresh link."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Permission
from mailer.actions import campaigns as actions
from mailer.actions import drafts as draft_actions
from mailer.actions import lists as list_actions
from mailer.app import Mailer
from mailer.delivery.campaign_states import DRAFT_ACTIONS, EditorAction
from mailer.delivery.send_guards import AlreadySent
from mailer.errors import ConflictError, FieldError, FieldErrors, MailerError, NotFoundError
from mailer.scheduling.one_off import local_and_utc
from mailer.web.admin._guard import PREFIX, requires, site_path
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.admin.login import MAX_FIELD
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/campaigns"
FIELDS = (
    "issue",
    "list",
    "segment",
    "when",
    "at",
    "timezone",
    "local_time",
    "again",
    "allow_draft",
)
MAX_ID = 2**31 - 1


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _campaign_id(request: Request) -> int:
    value = request.path_params["campaign_id"]
    return int(value) if 0 < int(value) <= MAX_ID else 0


def campaigns_list(request: Request) -> Response:
    principal = principal_of(request)
    page = actions.campaigns_page(_mailer(request), principal, after=None, limit=500)
    return admin_page(
        request,
        "admin/campaigns.html",
        principal,
        campaigns=page.items,
        when=local_and_utc,
        can_send=principal.can(Permission.SEND),
        can_draft=principal.can(Permission.EDIT_ISSUES),
        current="campaigns",
    )


def _field_errors(exc: MailerError) -> dict[str, str]:
    """The refusal by field: the form shows each at its field (the rest at the top)."""
    found = exc.errors if isinstance(exc, FieldErrors) else [exc]
    errors: dict[str, str] = {}
    for error in found:
        if isinstance(error, FieldError) and error.field in FIELDS:
            errors[error.field] = error.problem
        else:
            errors["form"] = str(error)
    return errors


def _new_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    draft_id: int | None = None,
) -> Response:
    """The form of a new campaign, or (``draft_id``) of the draft being edited."""
    mailer, principal = _mailer(request), principal_of(request)
    count: int | None = None
    if values.get("list") and not errors:
        try:
            count = actions.audience_count(
                mailer, principal, values["list"], values.get("segment") or None
            )
        except MailerError as exc:
            errors = _field_errors(exc)
            status = 422
    return admin_page(
        request,
        "admin/campaign_new.html",
        principal,
        status_code=status,
        issues=actions.issue_choices(mailer, principal),
        lists=list_actions.list_page(mailer, principal, after=None, limit=500).items,
        values=values,
        errors=errors,
        count=count,
        default_zone=mailer.settings.newsletter.timezone,
        can_send=principal.can(Permission.SEND),
        draft_id=draft_id,
        current="campaigns",
    )


def forbidden_page(request: Request, refused: Forbidden) -> Response:
    """The refusal of an action the role lacks, as the guard words it for a route."""
    return admin_page(
        request,
        "admin/forbidden.html",
        principal_of(request),
        status_code=403,
        missing=refused.permission,
    )


def _values(source: FormData | dict[str, str]) -> dict[str, str]:
    values = {}
    for name in FIELDS:
        value = source.get(name)
        values[name] = value[:MAX_FIELD].strip() if isinstance(value, str) else ""
    return values


@requires(Permission.EDIT_ISSUES)
def new_campaign(request: Request) -> Response:
    return _new_page(request, _values(dict(request.query_params)), {})


@requires(Permission.EDIT_ISSUES)
async def create_campaign(request: Request) -> Response:
    """Save a draft (the form's "Save as draft"), else send or schedule (``send``)."""
    async with request.form() as form:
        values = _values(form)
        drafting = form.get("do") == "draft"
    return await run_in_threadpool(_create, request, values, drafting)


def send_request(values: dict[str, str]) -> actions.SendRequest:
    """What the form asks for (FieldError for an issue not chosen, or a time not given)."""
    when = values["when"] or "now"
    issue = int(values["issue"]) if values["issue"].isdecimal() else 0
    if not issue or len(values["issue"]) > 9:
        raise FieldError("issue", "choose an issue", values["issue"][:20])
    asked = actions.SendRequest(
        issue=issue,
        list_name=values["list"],
        segment=values["segment"] or None,
        at=values["at"] or None if when != "now" else None,
        timezone=values["timezone"] or None if when == "at" else None,
        local_time=(values["local_time"] or "") if when == "local" else None,
        again=bool(values["again"]),
        allow_draft=bool(values["allow_draft"]),
    )
    if when == "at" and asked.at is None:
        raise FieldError("at", "give the time to send it")
    return asked


def _create(request: Request, values: dict[str, str], drafting: bool) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    try:
        asked = send_request(values)
        if drafting:
            campaign_id = draft_actions.create_draft(mailer, principal, asked).id
        else:
            campaign_id = actions.create_campaign(mailer, principal, asked).campaign.id
    except Forbidden as refused:
        return forbidden_page(request, refused)
    except AlreadySent as exc:  # 409, with the box that sends it anyway
        errors = {"again": STRINGS.campaigns.already_sent.format(problem=exc)}
        return _new_page(request, values, errors, status=409)
    except MailerError as exc:
        return _new_page(request, values, _field_errors(exc), status=422)
    where = site_path(request, f"{PATH}/{campaign_id}")
    return RedirectResponse(where, status_code=303)


def _campaign_page(
    request: Request, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    try:
        campaign = actions.show_campaign(mailer, principal, _campaign_id(request))
    except NotFoundError:
        return admin_page(request, "admin/campaign_missing.html", principal, status_code=404)
    audience: int | None = None
    if campaign.status == "draft":  # counted as it is now; taken only when it goes out
        try:
            audience = actions.audience_count(
                mailer, principal, campaign.list_name, campaign.segment
            )
        except MailerError:  # the list was deleted since, or the segment no longer reads
            audience = None
    return admin_page(
        request,
        "admin/campaign.html",
        principal,
        status_code=status,
        campaign=campaign,
        when=local_and_utc,
        can_manage=principal.can(Permission.MANAGE_CAMPAIGNS),
        offered=draft_actions.offered_actions(principal, campaign),
        audience=audience,
        default_zone=mailer.settings.newsletter.timezone,
        notice=notice,
        error=error,
        current="campaigns",
    )


def campaign(request: Request) -> Response:
    return _campaign_page(request)


def progress(request: Request) -> Response:
    """The progress fragment alone (what htmx polls every 2 s while the campaign sends).
    Once it no longer sends, htmx is told to load the whole page again, for the actions its
    new state allows."""
    principal = principal_of(request)
    try:
        found = actions.show_campaign(_mailer(request), principal, _campaign_id(request))
    except NotFoundError:
        return admin_page(request, "admin/campaign_missing.html", principal, status_code=404)
    done = found.status != "sending"
    return admin_page(
        request,
        "admin/campaign_progress.html",
        principal,
        headers={"HX-Refresh": "true"} if done else None,
        campaign=found,
    )


def _acting(action: EditorAction) -> Callable[[Request], object]:
    @requires(Permission.MANAGE_CAMPAIGNS)
    async def endpoint(request: Request) -> Response:
        async with request.form() as form:
            at, zone = _values(form)["at"], _values(form)["timezone"]
        return await run_in_threadpool(_act, request, action, at, zone)

    return endpoint


def _act(request: Request, action: EditorAction, at: str, zone: str) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    campaign_id = _campaign_id(request)
    try:
        after = actions.act(
            mailer, principal, campaign_id, action, at=at or None, timezone=zone or None
        )
    except NotFoundError:
        return _campaign_page(request)
    except MailerError as exc:
        status = 422 if isinstance(exc, FieldError) else 400
        status = 409 if isinstance(exc, ConflictError) else status
        return _campaign_page(request, error=str(exc), status=status)
    text = STRINGS.campaigns.done_text(str(action))
    return _campaign_page(request, notice=text.format(id=after.id, status=after.status))


def routes(mailer: Mailer) -> list[BaseRoute]:
    one = f"{PATH}/{{campaign_id:int}}"
    found: list[BaseRoute] = [
        Route(PATH, campaigns_list, methods=["GET"], name="admin_campaigns"),
        Route(f"{PATH}/new", new_campaign, methods=["GET"], name="admin_campaign_new"),
        Route(f"{PATH}/new", create_campaign, methods=["POST"], name="admin_campaign_create"),
        Route(one, campaign, methods=["GET"], name="admin_campaign"),
        Route(f"{one}/progress", progress, methods=["GET"], name="admin_campaign_progress"),
    ]
    for action in EditorAction:
        if action in DRAFT_ACTIONS:  # a draft's own routes: mailer.web.admin.drafts
            continue
        found.append(
            Route(
                f"{one}/{action.value}",
                _acting(action),
                methods=["POST"],
                name=f"admin_campaign_{action.value}",
            )
        )
    return found
