"""``POST /webhooks/sendgrid``: SendGrid's Event Webhook.

Answers, in the order they are decided (each a small JSON object, never a page):

403  no verification key is configured (and ``[web] sendgrid_webhook_unsigned`` is off), or
     the signature is missing or does not sign the timestamp and body as received;
413  a body over ``MAX_BODY_BYTES`` (SendGrid's batches are at most 768 KB);
400  a signed body that is not a JSON array;
503  the database could not store the batch: nothing of it is stored, SendGrid retries;
200  stored and committed: ``{"received", "new", "duplicates", "malformed"}``.

SendGrid retries anything but a 2xx for 24 hours, so an event that can never be stored
(lacking its id, type or time) is counted as malformed in a 200, not refused with the rest.
The endpoint needs no CSRF token: the signature is its proof.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import sqlalchemy as sa
from sendgrid.helpers.eventwebhook import EventWebhook
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.events.parse import NotEventBatch, parse_batch
from mailer.events.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_verifier,
    signature_valid,
)
from mailer.events.store import store_batch
from mailer.events.store_types import Ingested
from mailer.web.requests import TooLarge, bounded
from mailer.web.security import csrf_exempt

log = logging.getLogger("mailer.web")
MAX_BODY_BYTES = 4 * 1024 * 1024
NO_STORE = {"cache-control": "no-store"}


def _refusal(status_code: int, error: str) -> Response:
    return JSONResponse({"error": error}, status_code=status_code, headers=NO_STORE)


class DatabaseGone(Exception):
    """The SQLite file is no longer the one opened (moved or deleted): writing on would
    store the events where nobody reads them."""


class EventWebhookEndpoint:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        web = mailer.settings.web
        self.verifier: EventWebhook | None = load_verifier(web, mailer.environ)
        self.unsigned = self.verifier is None and web.sendgrid_webhook_unsigned
        engine = mailer.engine
        name = engine.url.database if engine.dialect.name == "sqlite" else None
        self.sqlite_file = Path(name) if name and name != ":memory:" else None
        self.opened = _identity(self.sqlite_file)

    def _ingest(self, body: bytes) -> Ingested:
        """Read and store a verified body (in the thread pool: reading a thousand events
        takes milliseconds the event loop should not wait)."""
        batch = parse_batch(body)
        if batch.events and self.sqlite_file and _identity(self.sqlite_file) != self.opened:
            raise DatabaseGone(f"the database file {self.sqlite_file} is gone or replaced")
        return store_batch(self.mailer.engine, batch, self.mailer.settings, self.mailer.clock())

    async def respond(self, request: Request) -> Response:
        if self.verifier is None and not self.unsigned:
            return _refusal(403, "no verification key is configured")
        try:
            body = await (await bounded(request, MAX_BODY_BYTES)).body()
        except TooLarge:
            return _refusal(413, f"the body is over {MAX_BODY_BYTES} bytes")
        if self.verifier is not None and not signature_valid(
            self.verifier,
            body,
            request.headers.get(SIGNATURE_HEADER, ""),
            request.headers.get(TIMESTAMP_HEADER, ""),
        ):
            return _refusal(403, "the signature does not verify")
        try:
            ingested = await run_in_threadpool(self._ingest, body)
        except NotEventBatch:
            return _refusal(400, "the body is not a JSON array of events")
        # A pool with no free connection in time (TimeoutError) is the database being
        # unavailable too: SendGrid is to try again.
        except (sa.exc.DBAPIError, sa.exc.TimeoutError, DatabaseGone) as exc:
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            log.warning(
                "events not stored (answered 503; SendGrid will retry): %s",
                " ".join(str(reason).split()),
            )
            return _refusal(503, "the database is unavailable; try again")
        return JSONResponse(ingested.as_json(), headers=NO_STORE)


def _identity(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def routes(mailer: Mailer) -> list[BaseRoute]:
    webhook = EventWebhookEndpoint(mailer)

    @csrf_exempt
    async def sendgrid_events(request: Request) -> Response:
        return await webhook.respond(request)

    return [Route("/webhooks/sendgrid", sendgrid_events, methods=["POST"], name="sendgrid_events")]
