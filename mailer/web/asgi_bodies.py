"""Reading a request's body whole, up to a limit, before anything parses it, and handing it
on to the endpoint as if it had never been read. The CSRF check (``mailer.web.security``) and
the REST API's body guard (``mailer.api.bodies``) both need it."""

from __future__ import annotations

from enum import Enum

from starlette.types import Message, Receive


class Unread(Enum):
    """Why a body was not read whole."""

    TOO_LARGE = "too large"
    CLIENT_GONE = "client gone"


async def read_body(receive: Receive, max_bytes: int) -> bytes | Unread:
    """The whole body, or why not: it grew past ``max_bytes`` (whatever length was declared),
    or the client went away before it ended."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return Unread.CLIENT_GONE
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > max_bytes:
            return Unread.TOO_LARGE
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever ``receive`` gives (the
    disconnect)."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
