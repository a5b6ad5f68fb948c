"""What the API takes as a request body: JSON (415 for anything else on POST, PUT and
PATCH), of at most ``[api] max_body_kib`` (413 past it, whether the client declared the length
or streams the body). The body is read here whole, so that the limit holds before anything
parses it, and handed on as it came."""

from __future__ import annotations

from email.message import Message as MimeHeader

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mailer.api.problems import problem_response
from mailer.web.asgi_bodies import Unread, read_body, replay

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Paths under the API whose endpoint streams and limits the body itself (uploads); any other
# method there is the router's 405.
STREAMED_UPLOADS = frozenset({"/imports"})


def is_json(content_type: str) -> bool:
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class BodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _api_path(scope) in STREAMED_UPLOADS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope["path"]  # the whole path: a mount sets root_path and leaves it as it is
        declared = headers.get("content-length", "")
        too_large = f"The body is larger than {self.max_bytes // 1024} KiB."
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem_response(path, 413, too_large)(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if isinstance(body, Unread):  # too large, or the client went away
            await problem_response(path, 413, too_large)(scope, receive, send)
            return
        content_type = headers.get("content-type", "")
        if body and scope["method"] in BODY_METHODS and not is_json(content_type):
            shown = content_type[:100] or "no Content-Type"
            detail = f"The body must be JSON (Content-Type: application/json), not {shown!r}."
            await problem_response(path, 415, detail)(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


def _api_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
