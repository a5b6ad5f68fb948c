"""The link in a confirmation mail: ``GET /confirm/<token>`` shows what it confirms and one
button, and changes nothing (mail providers' link scanners open every link); the button's
POST (CSRF-checked like every form) confirms. A link that is not genuine is a 404 page."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.services.confirmation import Confirmation, confirm, read_confirmation
from mailer.services.consent import Origin
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.web.pages import render
from mailer.web.rate_limits import client_address
from mailer.web.requests import AfterAnswer
from mailer.web.strings import STRINGS

SOURCE = "confirmation page"


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _answer(request: Request, act: Callable[[Mailer, str], Confirmation], state: str) -> Response:
    """The page for what ``act`` did with the link's token; ``state`` is the page's state
    when something is (or was just) waiting for confirmation."""
    try:
        found = act(_mailer(request), request.path_params["token"])
    except LinkFromTestCopy:
        error = STRINGS.signup.link_from_test_copy
        return render(request, "errors.html", 400, error=error, status=400, path="")
    except InvalidLink:
        # The error page, without its "address asked for" line (status) of an unknown page.
        error = STRINGS.signup.link_invalid
        return render(request, "errors.html", 404, error=error, status=400, path="")
    titles = {
        "ask": STRINGS.signup.confirm_title,
        "done": STRINGS.signup.confirmed_title,
        "nothing": STRINGS.signup.nothing_pending_title,
    }
    shown = state if found.pending else "nothing"
    pending = [entry for entry in found.lists if entry.name in found.pending]
    return render(request, "confirm.html", state=shown, heading=titles[shown], lists=pending)


def confirm_page(request: Request) -> Response:
    return _answer(request, read_confirmation, "ask")


def confirm_post(request: Request) -> Response:
    later = AfterAnswer()
    origin = Origin(SOURCE, client_address(request))
    response = _answer(
        request, lambda mailer, token: confirm(mailer, token, origin, deliver=later), "done"
    )
    response.background = later.tasks()
    return response


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route("/confirm/{token}", confirm_page, methods=["GET"], name="confirm"),
        Route("/confirm/{token}", confirm_post, methods=["POST"], name="confirm_post"),
    ]
