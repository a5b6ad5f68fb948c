"""Unsubscribing from a mail's link.

``POST /unsubscribe/<token>`` with ``List-Unsubscribe=One-Click`` (RFC 8058: what a mail
client sends, form-encoded or multipart, with no cookie) unsubscribes at once and answers 200
with a page, never a redirect. The signed token is the proof, so it needs no CSRF token.
``GET`` (a person's click, or a link scanner's) changes nothing: it shows one button that
makes that POST, and a link to the preferences. After it, a page says so and offers an undo,
``POST /unsubscribe/<token>/undo`` (a form of this site: CSRF-checked).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.links import UNSUBSCRIBE
from mailer.services.consent import Origin
from mailer.services.subscriber_links import (
    InvalidLink,
    LinkFromTestCopy,
    list_title,
    open_link,
    preferences_token_for,
)
from mailer.services.unsubscribe import resubscribe_by_link, unsubscribe_by_link
from mailer.web.pages import render
from mailer.web.rate_limits import client_address
from mailer.web.security import csrf_exempt

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _origin(request: Request, source: str) -> Origin:
    return Origin(source, client_address(request))


def _page(
    request: Request, state: str, token: str, list_name: str, status_code: int = 200
) -> Response:
    mailer = _mailer(request)
    preferences = (
        None if state == "test_copy" else preferences_token_for(mailer, UNSUBSCRIBE, token)
    )
    return render(
        request,
        "unsubscribe.html",
        status_code=status_code,
        state=state,
        token=token,
        list_title=list_title(mailer, list_name),
        preferences_token=preferences,
    )


def _show(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        target = open_link(_mailer(request), UNSUBSCRIBE, token)
    except InvalidLink:
        raise HTTPException(404) from None
    state = "test_copy" if target.test_copy else "ask"
    return _page(request, state, token, target.list_name)


def _unsubscribe(request: Request, source: str) -> Response:
    token = request.path_params["token"]
    mailer = _mailer(request)
    try:
        outcome = unsubscribe_by_link(mailer, token, _origin(request, source))
    except InvalidLink:
        raise HTTPException(404) from None
    except LinkFromTestCopy:
        return _page(request, "test_copy", token, "")
    return _page(request, "done", token, outcome.list_name)


def _undo(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        outcome = resubscribe_by_link(_mailer(request), token, _origin(request, "unsubscribe page"))
    except InvalidLink:
        raise HTTPException(404) from None
    except LinkFromTestCopy:
        return _page(request, "test_copy", token, "")
    return _page(request, "undone", token, outcome.list_name)


@csrf_exempt
async def unsubscribe(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_show, request)
    form = await request.form()
    if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        raise HTTPException(400)
    source = "unsubscribe page" if form.get("from") == "page" else "one-click"
    return await run_in_threadpool(_unsubscribe, request, source)


def undo(request: Request) -> Response:
    return _undo(request)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"], name="unsubscribe"),
        Route("/unsubscribe/{token}/undo", undo, methods=["POST"], name="unsubscribe_undo"),
    ]
