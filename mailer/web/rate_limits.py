"""Rate limits on the web face: the app's limiter (``mailer.rate_limits``, counters in the
database that hold across every `mailer serve` process), 429 past a limit, and the client's
address to count by."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from mailer.rate_limits import RateLimit, RateLimiter, Verdict

__all__ = ["RateLimit", "RateLimiter", "Verdict", "client_address", "enforce", "rate_limiter"]


def rate_limiter(request: Request) -> RateLimiter:
    """The app's limiter (made on first use: the app's database and signing key)."""
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        mailer = state.mailer
        state.rate_limiter = RateLimiter(mailer.engine, mailer.signing_key, mailer.clock)
    limiter: RateLimiter = state.rate_limiter
    return limiter


def enforce(request: Request, rule: RateLimit, key: str) -> None:
    """Count a hit; past the limit, stop the request with 429 Too Many Requests (the error
    page, with Retry-After). Call it from a plain ``def`` endpoint: it waits on the database."""
    verdict = rate_limiter(request).hit(rule, key)
    if not verdict.allowed:
        raise HTTPException(429, headers={"Retry-After": str(verdict.retry_after)})


def client_address(request: Request) -> str:
    """The client's IP: the proxy's X-Forwarded-For when ``[web] forwarded_allow_ips`` trusts
    the proxy (uvicorn resolves it), else the connection's address."""
    return request.client.host if request.client else ""
