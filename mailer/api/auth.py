"""Who is calling: ``Authorization: Bearer <token>`` and nothing else (no cookies, so no
request a browser is tricked into sending carries any right here, and the API needs no CSRF
token). One dependency, ``authorized(permission)``, yields the token's ``Principal`` after
counting the request against the token's rate limit and checking the permission:

- no token, or an unknown or revoked one: 401 with ``WWW-Authenticate: Bearer``;
- past ``[api] requests_per_minute``: 429 with ``Retry-After``;
- a role without the permission: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from mailer.accounts.roles import Permission, Principal
from mailer.accounts.tokens import token_principal
from mailer.app import Mailer
from mailer.rate_limits import RateLimit
from mailer.web.rate_limits import rate_limiter

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `mailer tokens create NAME --role ROLE`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def app_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


AppMailer = Annotated[Mailer, Depends(app_mailer)]


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="mailer"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def authorized(permission: Permission) -> Callable[[Request, Credentials], Principal]:
    """The dependency that yields the caller's ``Principal`` if it may ``permission``."""

    def principal(request: Request, credentials: Credentials) -> Principal:
        if credentials is None:
            raise _unauthorized("Send an API token: Authorization: Bearer <token>.")
        mailer = app_mailer(request)
        found = token_principal(mailer, credentials.credentials)
        if found is None:
            raise _unauthorized("The API token is unknown or revoked.", "invalid_token")
        rule = RateLimit("api-token", mailer.settings.api.requests_per_minute, 60)
        verdict = rate_limiter(request).hit(rule, f"token:{found.token_id}")
        if not verdict.allowed:
            raise HTTPException(
                429,
                f"More than {rule.limit} requests a minute with this token; "
                f"try again in {verdict.retry_after} s.",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        found.require(permission)
        return found

    return principal


Reader = Annotated[Principal, Depends(authorized(Permission.READ))]
AudienceManager = Annotated[Principal, Depends(authorized(Permission.MANAGE_AUDIENCE))]
