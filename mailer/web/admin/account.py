"""One's own account: ``GET/POST /admin/account/password`` (the current password, then the
new one twice). A new password ends every session of the user, this browser's is replaced by
a new one; a wrong current password counts as a failed log-in (so the form is no way around
the log-in throttle)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.errors import LoginRefused, LoginThrottled
from mailer.accounts.login import log_in
from mailer.accounts.sessions import end_session, start_session
from mailer.accounts.users import set_password
from mailer.app import Mailer
from mailer.errors import MailerError
from mailer.web.admin._guard import PREFIX, site_path
from mailer.web.admin._pages import admin_page, throttled_page
from mailer.web.admin._session import principal_of, set_session_cookie
from mailer.web.admin.login import MAX_FIELD
from mailer.web.rate_limits import client_address
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/account/password"


def _page(request: Request, *, error: str = "", notice: str = "", status: int = 200) -> Response:
    return admin_page(
        request,
        "admin/password.html",
        principal_of(request),
        status_code=status,
        error=error,
        notice=notice,
        current="account",
    )


def _change(mailer: Mailer, request: Request, current: str, new: str) -> str:
    """Change the password; the new session's token. LoginRefused, LoginThrottled or the
    MailerError saying why the new password is refused."""
    principal = principal_of(request)
    _, checked = log_in(mailer, principal.name, current, client_address(request))
    try:
        set_password(mailer, principal.name, new, actor=principal.actor)
    finally:
        end_session(mailer, checked)  # made only to check the current password
    assert principal.user_id is not None
    return start_session(mailer, principal.user_id)


async def password(request: Request) -> Response:
    text = STRINGS.admin
    if request.method in ("GET", "HEAD"):
        done = request.query_params.get("done") == "1"
        return _page(request, notice=text.password_changed if done else "")
    async with request.form() as form:
        current, new, repeated = (
            value[:MAX_FIELD] if isinstance(value, str) else ""
            for value in (form.get("current"), form.get("new"), form.get("repeat"))
        )
    if new != repeated:
        return _page(request, error=text.passwords_differ, status=400)
    mailer: Mailer = request.app.state.mailer
    try:
        token = await run_in_threadpool(_change, mailer, request, current, new)
    except LoginRefused:
        return _page(request, error=text.current_password_wrong, status=400)
    except LoginThrottled as exc:
        return throttled_page(request, principal_of(request), exc.retry_after)
    except MailerError as exc:
        return _page(request, error=str(exc), status=400)
    response = RedirectResponse(site_path(request, f"{PATH}?done=1"), status_code=303)
    set_session_cookie(request, response, token)
    return response


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route(PATH, password, methods=["GET", "POST"], name="admin_password")]
