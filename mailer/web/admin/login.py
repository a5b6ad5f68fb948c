"""Logging in and out: ``GET/POST /admin/login`` (email and password; then to ``next`` when it
is an admin page of this site, else the dashboard), ``POST /admin/logout`` (this session) and
``POST /admin/logout-everywhere`` (every session of the user). Failed log-ins are counted in
the database per account and per address (``mailer.accounts.login``): past the limit, 429
with when to try again, whatever the password."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.errors import LoginRefused, LoginThrottled
from mailer.accounts.login import log_in
from mailer.accounts.sessions import end_session
from mailer.accounts.users import log_out_everywhere
from mailer.app import Mailer
from mailer.web.admin._guard import PREFIX, is_admin_path, login_url, public, site_path
from mailer.web.admin._pages import admin_page, throttled_page
from mailer.web.admin._session import (
    clear_session_cookie,
    principal_of,
    set_session_cookie,
    token_of,
)
from mailer.web.rate_limits import client_address
from mailer.web.redirects import safe_next
from mailer.web.strings import STRINGS

MAX_FIELD = 1000


def admin_next(request: Request, candidate: str | None) -> str | None:
    """``candidate`` when it is an admin page of this site (see ``safe_next``), else None."""
    base_url: str = request.app.state.mailer.settings.newsletter.base_url
    target = safe_next(base_url, candidate)
    if target is None:
        return None
    prefix = urlsplit(base_url).path.rstrip("/")
    return target if is_admin_path(urlsplit(target).path[len(prefix) :]) else None


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _login_page(
    request: Request,
    next_path: str,
    *,
    email: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    return admin_page(
        request,
        "admin/login.html",
        None,
        status_code=status,
        email=email,
        error=error,
        notice=notice,
        next=next_path if admin_next(request, next_path) else "",
    )


@public
async def login(request: Request) -> Response:
    text = STRINGS.admin
    if request.method in ("GET", "HEAD"):
        notice = {"out": text.logged_out, "everywhere": text.logged_out_everywhere}.get(
            request.query_params.get("done", ""), ""
        )
        return _login_page(request, request.query_params.get("next", ""), notice=notice)
    async with request.form() as form:
        email, password, next_path = (_field(form, n) for n in ("email", "password", "next"))
    mailer: Mailer = request.app.state.mailer
    try:
        _, token = await run_in_threadpool(log_in, mailer, email, password, client_address(request))
    except LoginRefused:
        return _login_page(request, next_path, email=email, error=text.login_refused, status=400)
    except LoginThrottled as exc:
        return throttled_page(request, None, exc.retry_after)
    target = admin_next(request, next_path) or site_path(request, PREFIX)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, token)
    return response


def _logged_out(request: Request, done: str) -> Response:
    response = RedirectResponse(f"{login_url(request)}?done={done}", status_code=303)
    clear_session_cookie(request, response)
    return response


def logout(request: Request) -> Response:
    end_session(request.app.state.mailer, token_of(request))
    return _logged_out(request, "out")


def logout_everywhere(request: Request) -> Response:
    principal = principal_of(request)
    log_out_everywhere(request.app.state.mailer, principal.name, actor=principal.actor)
    return _logged_out(request, "everywhere")


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/login", login, methods=["GET", "POST"], name="admin_login"),
        Route(f"{PREFIX}/logout", logout, methods=["POST"], name="admin_logout"),
        Route(
            f"{PREFIX}/logout-everywhere",
            logout_everywhere,
            methods=["POST"],
            name="admin_logout_everywhere",
        ),
    ]
