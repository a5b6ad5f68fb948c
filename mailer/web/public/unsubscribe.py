"""Unsubscribing from a mail's link.

``POST /unsubscribe/<token>`` with ``List-Unsubscribe=One-Click`` (RFC 8058: what a mail
client sends, form-encoded or multipart, with no cookie) unsubscribes at once and answers 200
with a page, never a redirect. The signed token is the proof, so it needs no CSRF token.
``GET`` (a person's click, or a link scanner's) changes nothing: it shows one button that
makes that POST, and a link to the preferences. After it, a page says so and offers an undo,
``POST /unsubscribe/<token>/undo`` (a form of this site: CSRF-checked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.errors import MailerError
from mailer.services.consent import Origin
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.services.unsubscribe import (
    LinkOutcome,
    UnsubscribeRequest,
    link_page,
    resubscribe_by_link,
    unsubscribe_links,
)
from mailer.web.group_commit import GroupCommit
from mailer.web.pages import render
from mailer.web.rate_limits import client_address
from mailer.web.security import csrf_exempt

AsyncEndpoint = Callable[[Request], Awaitable[Response]]
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _origin(request: Request, source: str) -> Origin:
    return Origin(source, client_address(request))


def _page(request: Request, state: str, token: str, outcome: LinkOutcome | None) -> Response:
    return render(
        request,
        "unsubscribe.html",
        state=state,
        token=token,
        list_title=outcome.list_title if outcome else "",
        preferences_token=outcome.preferences_token if outcome else None,
    )


def _answer(
    request: Request, state: str, token: str, result: LinkOutcome | MailerError
) -> Response:
    if isinstance(result, LinkFromTestCopy):
        return _page(request, "test_copy", token, None)
    if isinstance(result, MailerError):  # InvalidLink: says nothing of whom it was for
        raise HTTPException(404)
    return _page(request, state, token, result)


def _show(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        outcome: LinkOutcome | MailerError = link_page(_mailer(request), token)
    except (InvalidLink, LinkFromTestCopy) as exc:
        outcome = exc
    return _answer(request, "ask", token, outcome)


def _unsubscribe_one(mailer: Mailer, request: UnsubscribeRequest) -> LinkOutcome | MailerError:
    return unsubscribe_links(mailer, [request])[0]


def _undo(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        outcome: LinkOutcome | MailerError = resubscribe_by_link(
            _mailer(request), token, _origin(request, "unsubscribe page")
        )
    except (InvalidLink, LinkFromTestCopy) as exc:
        outcome = exc
    return _answer(request, "undone", token, outcome)


class Unsubscribes:
    """The POST's writes: gathered into shared transactions (``[web] group_commit``), or
    one transaction each."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.group: GroupCommit[UnsubscribeRequest, LinkOutcome | MailerError] | None = None
        if mailer.settings.web.group_commit:
            self.group = GroupCommit(self._apply_all)

    def _apply_all(self, requests: Sequence[UnsubscribeRequest]) -> list[LinkOutcome | MailerError]:
        return unsubscribe_links(self.mailer, requests)

    async def apply(self, request: UnsubscribeRequest) -> LinkOutcome | MailerError:
        if self.group is not None:
            return await self.group.submit(request)
        return await run_in_threadpool(_unsubscribe_one, self.mailer, request)


def _endpoints(writes: Unsubscribes) -> tuple[AsyncEndpoint, Callable[[Request], Response]]:
    @csrf_exempt
    async def unsubscribe(request: Request) -> Response:
        if request.method == "GET":
            return await run_in_threadpool(_show, request)
        form = await request.form()
        if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
            raise HTTPException(400)
        source = "unsubscribe page" if form.get("from") == "page" else "one-click"
        token = request.path_params["token"]
        result = await writes.apply(UnsubscribeRequest(token, _origin(request, source)))
        return _answer(request, "done", token, result)

    def undo(request: Request) -> Response:
        return _undo(request)

    return unsubscribe, undo


def routes(mailer: Mailer) -> list[BaseRoute]:
    unsubscribe, undo = _endpoints(Unsubscribes(mailer))
    return [
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"], name="unsubscribe"),
        Route("/unsubscribe/{token}/undo", undo, methods=["POST"], name="unsubscribe_undo"),
    ]
