"""Error pages: 403, 404, 429, 500 and the rest, from ``errors.html`` with the strings."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailer.web.pages import render
from mailer.web.strings import STRINGS

log = logging.getLogger("mailer.web")


def error_response(
    request: Request, status_code: int, headers: Mapping[str, str] | None = None
) -> Response:
    """The error page for ``status_code``; plain text if even the page cannot be made."""
    text = STRINGS.error(status_code)
    try:
        return render(
            request,
            "errors.html",
            status_code=status_code,
            headers=headers,
            error=text,
            status=status_code,
            path=request.url.path,
        )
    except Exception:  # a broken or missing template must not hide the error itself
        log.exception("the error page errors.html could not be made")
        return PlainTextResponse(
            f"{text.title}\n\n{text.text}\n", status_code=status_code, headers=headers
        )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's handler for HTTPException (no route, wrong method, a raised 4xx)."""
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, exc.headers)


class ServerErrorPage:
    """Answers an exception that escaped a route with the 500 page (inside the security
    middleware, so it carries the same headers as any page) and raises it again for the
    server to log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            if not started:
                response = error_response(Request(scope), 500)
                await response(scope, receive, send)
            raise
