"""The admin session cookie: a random token whose sha256 the database keeps
(``mailer.accounts.sessions``); HttpOnly, SameSite=Lax, and under https Secure and
``__Host-`` prefixed, so no sibling subdomain can plant or read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from mailer.accounts.roles import Principal

COOKIE = "mailer_session"
SECURE_COOKIE = "__Host-mailer_session"
PRINCIPAL = "mailer.principal"
_TOKEN = "mailer.session_token"


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if request.url.scheme == "https" else COOKIE


def session_token(request: Request) -> str:
    """The session token the browser sent ("" when none)."""
    return request.cookies.get(cookie_name(request), "")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Give the browser ``token``; it lasts as long as the server lets a session last."""
    max_age = request.app.state.mailer.settings.admin.session_max_days * 24 * 3600
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def principal_of(request: Request) -> Principal:
    """Who is logged in (the guard put it there; every guarded endpoint has one)."""
    principal: Principal = request.scope[PRINCIPAL]
    return principal


def token_of(request: Request) -> str:
    token: str = request.scope[_TOKEN]
    return token


def remember(request: Request, principal: Principal, token: str) -> None:
    request.scope[PRINCIPAL] = principal
    request.scope[_TOKEN] = token
