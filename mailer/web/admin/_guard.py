"""The one gate in front of every ``/admin`` path (``AdminGuard``, a middleware of the app):

- no valid session: a GET or HEAD of a page is sent to the log-in page (303, with ``next``),
  anything else is refused with 401 (an htmx request is told where to go instead);
- a session whose role lacks the endpoint's permission (``@requires``; ``read`` when the
  endpoint names none): 403, a page naming what is missing;
- only endpoints marked ``@public`` (the log-in page) pass without a session.

Being a middleware over the path, it also stands in front of routes added later that forget
to ask for anything, and in front of unknown ``/admin`` paths (which tell a stranger nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mailer.accounts.roles import Permission
from mailer.accounts.sessions import session_principal
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import remember, session_token
from mailer.web.security import matched_endpoint

Endpoint = TypeVar("Endpoint")
PREFIX = "/admin"
_PUBLIC = "mailer_admin_public"
_REQUIRES = "mailer_admin_requires"


def public(endpoint: Endpoint) -> Endpoint:
    """Mark an admin endpoint that answers without a session (the log-in page only)."""
    setattr(endpoint, _PUBLIC, True)
    return endpoint


def requires(permission: Permission) -> Callable[[Endpoint], Endpoint]:
    """Mark an admin endpoint that needs ``permission`` (beyond a valid session)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _REQUIRES, permission)
        return endpoint

    return mark


def required_permission(endpoint: object) -> Permission:
    permission: Permission = getattr(endpoint, _REQUIRES, Permission.READ)
    return permission


def route_path(scope: Scope) -> str:
    """The path the routes see (without the proxy's prefix, if any)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def is_admin_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def site_path(request: Request, path: str) -> str:
    """``path`` (a route's path) as the browser sees it: under base_url's own path."""
    base_url: str = request.app.state.mailer.settings.newsletter.base_url
    return urlsplit(base_url).path.rstrip("/") + path


def login_url(request: Request, next_path: str | None = None) -> str:
    url = site_path(request, f"{PREFIX}/login")
    return f"{url}?next={quote(next_path, safe='/')}" if next_path else url


def _anonymous(request: Request) -> Response:
    here = site_path(request, route_path(request.scope))
    if request.url.query:
        here += f"?{request.url.query}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": login_url(request, here)})
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(login_url(request, here), status_code=303)
    return admin_page(request, "admin/login_needed.html", None, status_code=401)


class AdminGuard:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_admin_path(route_path(scope)):
            await self.app(scope, receive, send)
            return
        endpoint = matched_endpoint(self.router.routes, scope)
        if getattr(endpoint, _PUBLIC, False):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        token = session_token(request)
        mailer = request.app.state.mailer
        principal = await run_in_threadpool(session_principal, mailer, token) if token else None
        if principal is None:
            await _anonymous(request)(scope, receive, send)
            return
        permission = required_permission(endpoint)
        if not principal.can(permission):
            refusal = admin_page(
                request,
                "admin/forbidden.html",
                principal,
                status_code=403,
                missing=permission,
            )
            await refusal(scope, receive, send)
            return
        remember(request, principal, token)
        await self.app(scope, receive, send)
