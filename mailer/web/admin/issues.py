"""Issues (``read``): ``GET /admin/issues`` lists the issue files with their status, the lists
each went to and how many findings ``mailer check`` has for it; ``GET /admin/issues/{number}``
shows one issue's findings (file:line), its preview at desktop and phone widths and its text
part; ``POST /admin/issues/{number}/test-send`` (``edit_issues``) sends test copies to one to
five addresses through the configured transport and answers with the page again.

The rendered mail comes from its own address, ``/admin/issues/{number}/email.html``, under a
policy that runs no script and lets only this site frame it; the issue page frames it in an
``<iframe sandbox>``."""

from __future__ import annotations

from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import issues as actions
from mailer.actions.paging import MAX_LIMIT
from mailer.app import Mailer
from mailer.errors import MailerError, NotFoundError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.errors import error_response
from mailer.web.security import content_security_policy
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/issues"
PHONE_WIDTH = 375
DESKTOP_WIDTH = 640
# The form's one field: five addresses of 320 characters and their line breaks, at most.
MAX_TO_CHARS = 2000
# The admin pages' policy, and frames from this site (the preview).
ISSUE_PAGE_POLICY = content_security_policy(
    script_src="'self'", connect_src="'self'", frame_src="'self'"
)
# The mail itself: no script, no form, nothing but its own styles, images and fonts as the
# mail has them (remote, like a mail client shows them), and framed only by this site.
EMAIL_POLICY = content_security_policy(
    default_src="'none'",
    style_src="'unsafe-inline' https:",
    img_src="https: http: data:",
    font_src="https: data:",
    form_action="'none'",
    frame_ancestors="'self'",
    sandbox="allow-popups allow-popups-to-escape-sandbox",
)


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def issue_list(request: Request) -> Response:
    page = actions.issue_page(_mailer(request), principal_of(request), after=None, limit=MAX_LIMIT)
    return admin_page(
        request,
        "admin/issues.html",
        principal_of(request),
        issues=page.items,
        more=page.next_after is not None,
        current="issues",
    )


def _issue_page(
    request: Request, *, notice: str = "", error: str = "", to: str = "", status: int = 200
) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    number = request.path_params["number"]
    try:
        detail = actions.show_issue(mailer, principal, number)
    except NotFoundError:
        return error_response(request, 404)
    try:
        email = actions.render_issue(mailer, principal, number)
        render_error = ""
    except MailerError as exc:
        email, render_error = None, str(exc)
    return admin_page(
        request,
        "admin/issue.html",
        principal,
        status_code=status,
        headers={"content-security-policy": ISSUE_PAGE_POLICY},
        issue=detail,
        email=email,
        render_error=render_error,
        may_test_send=principal.can(Permission.EDIT_ISSUES),
        transport=mailer.settings.transport.default,
        phone=PHONE_WIDTH,
        desktop=DESKTOP_WIDTH,
        notice=notice,
        error=error,
        to=to,
        current="issues",
    )


def issue(request: Request) -> Response:
    return _issue_page(request)


def email_html(request: Request) -> Response:
    try:
        email = actions.render_issue(
            _mailer(request), principal_of(request), request.path_params["number"]
        )
    except NotFoundError:
        return error_response(request, 404)
    except MailerError as exc:  # the issue page says why, beside this frame
        page = f"<!doctype html><meta charset=utf-8><title>-</title><pre>{escape(str(exc))}</pre>"
        return HTMLResponse(page, status_code=422, headers=_email_headers())
    return HTMLResponse(email.html, headers=_email_headers())


def _email_headers() -> dict[str, str]:
    return {
        "content-security-policy": EMAIL_POLICY,
        "x-frame-options": "SAMEORIGIN",
        "cache-control": "no-store",
        "x-robots-tag": "noindex",
    }


def _addresses(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@requires(Permission.EDIT_ISSUES)
async def test_send(request: Request) -> Response:
    async with request.form() as form:
        value = form.get("to")
        to = value[:MAX_TO_CHARS] if isinstance(value, str) else ""
    mailer, principal = _mailer(request), principal_of(request)
    number = request.path_params["number"]
    words = STRINGS.issues
    try:
        sent = await run_in_threadpool(
            actions.send_test_copies, mailer, principal, number, _addresses(to)
        )
    except NotFoundError:
        return error_response(request, 404)
    except MailerError as exc:
        return await run_in_threadpool(_issue_page, request, error=str(exc), to=to, status=400)
    notice = words.test_sent.format(addresses=", ".join(sent.sent), transport=sent.transport)
    refused = [words.test_refused.format(address=a, reason=r) for a, r in sent.refused.items()]
    return await run_in_threadpool(
        _issue_page, request, notice=notice, error=" ".join(refused), status=200
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route(PATH, issue_list, methods=["GET"], name="admin_issues"),
        Route(f"{PATH}/{{number}}", issue, methods=["GET"], name="admin_issue"),
        Route(f"{PATH}/{{number}}/email.html", email_html, methods=["GET"], name="admin_email"),
        Route(f"{PATH}/{{number}}/test-send", test_send, methods=["POST"], name="admin_test_send"),
    ]
