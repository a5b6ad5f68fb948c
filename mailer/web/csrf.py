"""CSRF tokens that need no server memory, so any `mailer serve` process can check a form
another one served.

The browser holds a random cookie (HttpOnly, SameSite=Lax, Secure and ``__Host-`` prefixed
under https); each form carries a token that is a keyed hash of that cookie with the signing
key. Another site can make a browser send the cookie but can neither read it nor compute the
token, and a token is worth nothing with any other cookie. ``security.CsrfMiddleware`` checks
it on every unsafe request; this module has the tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

COOKIE = "mailer_csrf"
# Under https the browser keeps this cookie from being set by any other host (a sibling
# subdomain could otherwise plant a cookie whose token it knows).
SECURE_COOKIE = "__Host-mailer_csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
COOKIE_MAX_AGE = 365 * 24 * 3600
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
_STATE = "mailer.csrf"
_CONTEXT = b"mailer csrf form token\n"


@dataclass
class CsrfState:
    """The request's CSRF cookie: the one the browser sent, or a new one to set if a form is
    shown."""

    cookie: str
    sent_by_browser: bool
    used: bool = False

    @property
    def needs_setting(self) -> bool:
        return self.used and not self.sent_by_browser


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if request.url.scheme == "https" else COOKIE


def state_of(request: Request) -> CsrfState:
    """The CSRF state of ``request``, kept in its scope (read from its cookie the first time)."""
    state = request.scope.get(_STATE)
    if not isinstance(state, CsrfState):
        sent = request.cookies.get(cookie_name(request), "")
        if _COOKIE_VALUE.fullmatch(sent):
            state = CsrfState(sent, sent_by_browser=True)
        else:
            state = CsrfState(secrets.token_urlsafe(32), sent_by_browser=False)
        request.scope[_STATE] = state
    return state


def token_for(key: bytes, cookie: str) -> str:
    digest = hmac.new(key, _CONTEXT + cookie.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _signing_key(request: Request) -> bytes:
    key: bytes = request.app.state.mailer.signing_key
    return key


def form_token(request: Request) -> str:
    """The token a form on this page must send back (sets the cookie when there is none)."""
    state = state_of(request)
    state.used = True
    return token_for(_signing_key(request), state.cookie)


def set_cookie_header(request: Request) -> str:
    state = state_of(request)
    secure = request.url.scheme == "https"
    return (
        f"{cookie_name(request)}={state.cookie}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; "
        f"SameSite=Lax{'; Secure' if secure else ''}"
    )


async def submitted_token(request: Request) -> str:
    """The token the request carries: in the X-CSRF-Token header, else in the form field;
    "" when there is none (or the form cannot be read)."""
    header = request.headers.get(HEADER)
    if header is not None:
        return header
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return ""
    try:
        async with request.form(max_files=100, max_fields=1000) as form:
            value = form.get(FORM_FIELD)
            return "" if value is None or isinstance(value, UploadFile) else value
    # A body that is not the form it claims to be has no token.
    except (HTTPException, MultiPartException, ValueError):
        return ""


async def request_is_genuine(request: Request) -> bool:
    """Whether an unsafe request comes with the cookie and the token made from it."""
    state = state_of(request)
    token = await submitted_token(request)
    if not state.sent_by_browser or not token:
        return False
    expected = token_for(_signing_key(request), state.cookie)
    return hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode("ascii"))
