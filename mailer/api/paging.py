"""Cursor paging: ``?limit=`` (1 to 500, 100 when not given) and ``?cursor=``, answered with
``{"items": [...], "next_cursor": "..." | null}``.

A cursor is the key of the last item of the page before, as JSON, with a keyed hash of it in
front, in URL-safe base64: opaque to clients, and a cursor this API did not give (made up, cut
short, or one character changed) is refused with 400 rather than read as some other place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from mailer.actions.paging import DEFAULT_LIMIT, MAX_LIMIT
from mailer.api.problems import InputProblem

Item = TypeVar("Item")
MAC_BYTES = 16
CURSOR_MAX = 2048

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX,
        description="Where to go on from: the `next_cursor` of the page before.",
    ),
]
__all__ = ["DEFAULT_LIMIT", "Cursor", "Cursors", "Limit", "Page"]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Cursors:
    """Makes and reads the cursors of one listing (``purpose``), keyed with ``secret``."""

    def __init__(self, secret: bytes, purpose: str) -> None:
        self._key = hashlib.sha256(b"mailer api cursors\n" + secret).digest()
        self.purpose = purpose

    def _mac(self, payload: bytes) -> bytes:
        message = self.purpose.encode() + b"\n" + payload
        return hmac.new(self._key, message, "sha256").digest()[:MAC_BYTES]

    def encode(self, key: list[str]) -> str:
        payload = json.dumps(key, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, cursor: str, parts: int) -> list[str]:
        """The key in ``cursor`` (``parts`` strings), or a 400 problem naming ``cursor``."""
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
        if len(mac) == MAC_BYTES and hmac.compare_digest(mac, self._mac(payload)):
            key = json.loads(payload)
            if isinstance(key, list) and len(key) == parts and all(isinstance(k, str) for k in key):
                return key
        raise InputProblem("cursor", "not a cursor this listing gave; start again without it")
