"""What every response and every form gets: security headers, and the CSRF check on every
unsafe request. A route loosens them only by saying so on its endpoint:

``@embeddable``  other sites may show the page in a frame (the signup form);
``@csrf_exempt`` its POSTs need no CSRF token (RFC 8058's one-click unsubscribe, which mail
                 clients send with no cookies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailer.web import csrf
from mailer.web.asgi_bodies import Unread, read_body, replay
from mailer.web.errors import error_response

Endpoint = TypeVar("Endpoint")
_EMBEDDABLE = "mailer_embeddable"
_CSRF_EXEMPT = "mailer_csrf_exempt"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A form's body is read whole to find its token: more than this is refused (413).
MAX_FORM_BYTES = 1024 * 1024
HSTS = "max-age=31536000"

# No script runs and nothing loads from elsewhere; styles and images only from this site.
POLICY: Mapping[str, str] = {
    "default-src": "'none'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def embeddable(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose pages other sites may show in a frame."""
    setattr(endpoint, _EMBEDDABLE, True)
    return endpoint


def csrf_exempt(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose unsafe requests need no CSRF token. Only for requests that are
    safe to accept from anywhere, or carry a proof of their own (a signed link)."""
    setattr(endpoint, _CSRF_EXEMPT, True)
    return endpoint


def content_security_policy(*, embeddable: bool = False, **directives: str) -> str:
    """The policy, with ``directives`` (``img_src="'self' https:"``) replacing the defaults;
    a route that needs more sets its own Content-Security-Policy header from this."""
    policy = dict(POLICY)
    if embeddable:
        policy["frame-ancestors"] = "*"
    policy.update({name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def matched_endpoint(routes: Sequence[BaseRoute], scope: Scope) -> Any:
    """The endpoint the router will call for ``scope`` (None for no route, or a 405)."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            if isinstance(route, Mount):
                return matched_endpoint(route.routes, {**scope, **child})
            return child.get("endpoint")
    return None


_ENDPOINT = "mailer.endpoint"


def _marked(router: Router, scope: Scope, mark: str) -> bool:
    """Whether the endpoint for ``scope`` carries ``mark`` (the route looked up once)."""
    if _ENDPOINT not in scope:
        scope[_ENDPOINT] = matched_endpoint(router.routes, scope)
    return bool(getattr(scope[_ENDPOINT], mark, False))


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed = _marked(self.router, scope, _EMBEDDABLE)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {
                    "content-security-policy": content_security_policy(embeddable=framed),
                    "x-content-type-options": "nosniff",
                    "referrer-policy": "no-referrer",
                }
                if not framed:
                    defaults["x-frame-options"] = "DENY"
                if https:
                    defaults["strict-transport-security"] = HSTS
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfMiddleware:
    """Refuses (403) any POST, PUT, PATCH or DELETE without a valid CSRF token, unless its
    endpoint is ``@csrf_exempt``; sets the CSRF cookie on a response whose page used it."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if scope["method"] in UNSAFE_METHODS and not _marked(self.router, scope, _CSRF_EXEMPT):
            refusal, receive = await _checked(request, receive)
            if refusal is not None:
                await error_response(request, refusal)(scope, receive, send)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = csrf.state_of(request)
                headers = MutableHeaders(scope=message)
                if state.needs_setting:
                    headers.append("set-cookie", csrf.set_cookie_header(request))
                if state.used and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"  # the page holds a personal token
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _checked(request: Request, receive: Receive) -> tuple[int | None, Receive]:
    """The status to refuse the request with (None: it may go on), and the ``receive`` that
    hands the body read here to the endpoint again."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return 413, receive
    body = await read_body(receive, MAX_FORM_BYTES)
    if body is Unread.CLIENT_GONE:
        return 400, receive
    if body is Unread.TOO_LARGE:
        return 413, receive
    if not await csrf.request_is_genuine(Request(request.scope, replay(body, receive))):
        return 403, replay(body, receive)
    return None, replay(body, receive)
