"""SendGrid's /v3/mail/send through the ``sendgrid`` library, one request per batch.

The library keeps its request headers in a dict shared by every call and changed by them, so
each transport owns its own client and is used by one thread at a time. It has no timeout of
its own, so every call passes one. The body is serialized here (orjson) and handed over as text
with a JSON content type that carries a charset, which the library sends as it is.

How answers map to the dispatcher's reactions: 202/200 sent; 400/413 refused (split when the
errors name personalizations); 401/403 stop; 429 wait for X-RateLimit-Reset; 5xx, and failing
to connect or to send the request, retry; no answer after the request went out (read timeout,
connection dropped) is an answer lost: the batch is in doubt.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
from collections.abc import Sequence
from typing import Any

import orjson
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from mailer.config import SendGridSettings
from mailer.delivery.transports.base import (
    AnswerLost,
    AuthenticationFailed,
    BadRequest,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    RateLimited,
    TemporaryFailure,
)
from mailer.delivery.transports.sendgrid_payload import MAX_PERSONALIZATIONS, PayloadBuilder

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class _RequestBody(str):
    """The JSON body as the library wants it (text), already encoded. The library encodes the
    text again and formats the bytes into a debug message on every request, logging on or
    off; for a megabyte of JSON that costs more than building it. Handing it bytes that
    encode to themselves and print as their size spares both."""

    def __new__(cls, body: bytes) -> _RequestBody:
        text = super().__new__(cls)
        text.body = _QuietBytes(body)
        return text

    body: _QuietBytes

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.body


class _QuietBytes(bytes):
    def __str__(self) -> str:
        return f"<{len(self)} bytes of JSON>"

    __repr__ = __str__


def _errors(body: bytes | str | None) -> list[dict[str, Any]]:
    try:
        parsed = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return []
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    return [error for error in errors or [] if isinstance(error, dict)]


def _describe(errors: list[dict[str, Any]], fallback: str) -> str:
    parts = []
    for error in errors:
        field = error.get("field")
        message = str(error.get("message") or "").strip()
        parts.append(f"{field}: {message}" if field and field != "null" else message)
    return "; ".join(part for part in parts if part) or fallback


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


class SendGridTransport:
    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS
    concurrency = 1

    def __init__(self, settings: SendGridSettings, api_key: str) -> None:
        self.settings = settings
        self.max_batch = settings.batch_size
        self.client = SendGridAPIClient(api_key=api_key, host=settings.host.rstrip("/"))
        self._builders: dict[int, tuple[BatchContent, PayloadBuilder]] = {}

    def _builder(self, content: BatchContent) -> PayloadBuilder:
        cached = self._builders.get(id(content))
        if cached is None or cached[0] is not content:
            cached = (content, PayloadBuilder(content, self.settings))
            self._builders = {id(content): cached}
        return cached[1]

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest:
        body, left_out = self._builder(content).body(batch)
        return PreparedRequest(content, batch, body, left_out)

    def deliver(self, request: PreparedRequest) -> BatchResult:
        left_out = request.left_out
        if len(left_out) == len(request.batch):
            return BatchResult(rejected=dict(left_out))
        response = self._post(_RequestBody(request.body))
        message_id = _header(response.headers, "X-Message-Id")
        return BatchResult(rejected=dict(left_out), message_id=message_id)

    def _post(self, body: _RequestBody) -> Any:
        where = self.settings.host
        try:
            return self.client.client.mail.send.post(
                request_body=body,
                request_headers={"Content-Type": JSON_CONTENT_TYPE},
                timeout=self.settings.timeout,
            )
        except http_errors.HTTPError as exc:
            raise self._translate(exc) from exc
        except urllib.error.URLError as exc:
            # Raised while connecting or sending: SendGrid never had the whole request.
            raise TemporaryFailure(f"cannot reach SendGrid at {where}: {exc.reason}") from exc
        except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
            raise AnswerLost(
                f"no answer from SendGrid at {where} after the request was sent "
                f"({type(exc).__name__}: {exc}); it may have been accepted"
            ) from exc

    def _translate(self, exc: http_errors.HTTPError) -> Exception:
        status = int(exc.status_code)
        errors = _errors(exc.body)
        detail = _describe(errors, f"HTTP {status}")
        if status in (401, 403):
            return AuthenticationFailed(
                f"SendGrid refused the API key (HTTP {status}: {detail}); check the key in "
                "the environment variable named by [transport.sendgrid] api_key_env and "
                "that it has the Mail Send permission"
            )
        if status == 429:
            reset = _header(exc.headers, "X-RateLimit-Reset")
            wait = None
            if reset is not None and reset.isdigit():
                wait = max(int(reset) - time.time(), 0.0) + 0.05
            return RateLimited(f"SendGrid rate limit (HTTP 429): {detail}", retry_after=wait)
        if status >= 500:
            return TemporaryFailure(f"SendGrid failed (HTTP {status}): {detail}")
        if status in (400, 413):
            fields = [str(error.get("field") or "") for error in errors]
            names_recipients = status == 413 or (
                bool(fields) and all(field.startswith("personalizations.") for field in fields)
            )
            return BadRequest(
                f"SendGrid refused the request (HTTP {status}): {detail}",
                names_recipients=names_recipients,
            )
        return BadRequest(
            f"SendGrid answered HTTP {status} ({detail}); check [transport.sendgrid] host",
            names_recipients=False,
        )

    def close(self) -> None:
        pass
