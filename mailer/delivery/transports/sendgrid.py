"""SendGrid's /v3/mail/send, one request per batch, several at once over kept-alive connections.

Requests go through one urllib3 connection pool for the host, of ``[transport.sendgrid]
concurrency`` connections, shared by the threads that call ``deliver`` (urllib3's pools are
thread-safe; a thread waits for a free connection rather than opening one more). The
``sendgrid`` library still says who is calling: its client's headers (Authorization: Bearer
key, its User-Agent, Accept) go out with every request. Its own way of posting (urllib, a new
connection for every request and a header dict that each call changes) is not used. The body
is serialized here (orjson) and sent as it is, with a JSON content type that carries a charset.

urllib3 never retries here and follows no redirect: resending a POST whose answer was lost
could mail a thousand people twice; that decision belongs to the dispatcher and the ledger. A
kept-alive connection that the server closed while it sat idle is noticed when it is taken
from the pool (urllib3 checks that it is still open) and replaced by a new one before the
request starts, so it is not a lost answer.

How answers map to the dispatcher's reactions: 202/200 sent; 400/413 refused (split when the
errors name personalizations); 401/403 stop; 429 wait for X-RateLimit-Reset; 5xx, and failing
to connect or to send the whole request, retry; no answer after the request went out (read
timeout, connection dropped or reset) is an answer lost: the batch is in doubt.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import urllib3
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
MAIL_SEND_PATH = "/v3/mail/send"


class _Upload:
    """A request body that notes when all of it has been handed to the socket. urllib3 lets a
    reset while sending pass (to read an answer the server may have sent early), so its error
    alone does not say whether SendGrid had the whole request; this does. Iterated once by
    urllib3: the line after ``yield`` runs only once the body has been sent."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.body
        self.sent = True


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


def _refusal(status: int, body: bytes, headers: Mapping[str, str]) -> Exception:
    """The dispatcher's reaction to an answer other than 200/202."""
    errors = _errors(body)
    detail = _describe(errors, f"HTTP {status}")
    if status in (401, 403):
        return AuthenticationFailed(
            f"SendGrid refused the API key (HTTP {status}: {detail}); check the key in "
            "the environment variable named by [transport.sendgrid] api_key_env and "
            "that it has the Mail Send permission"
        )
    if status == 429:
        reset = headers.get("X-RateLimit-Reset")
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


class SendGridTransport:
    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS
    concurrency = 1

    def __init__(self, settings: SendGridSettings, api_key: str) -> None:
        self.settings = settings
        self.max_batch = settings.batch_size
        self.concurrency = settings.concurrency
        self.client = SendGridAPIClient(api_key=api_key, host=settings.host.rstrip("/"))
        url = urllib3.util.parse_url(f"{self.client.host}{MAIL_SEND_PATH}")
        self._target = url.request_uri
        self._headers = {**self.client.client.request_headers, "Content-Type": JSON_CONTENT_TYPE}
        self._pool = urllib3.connection_from_url(
            url.url,
            maxsize=settings.concurrency,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=settings.timeout, read=settings.timeout),
        )
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
        response = self._post(request.body)
        if response.status not in (200, 202):
            raise _refusal(response.status, response.data, response.headers)
        message_id = response.headers.get("X-Message-Id")
        return BatchResult(rejected=dict(left_out), message_id=message_id)

    def _post(self, body: bytes) -> urllib3.BaseHTTPResponse:
        where = self.settings.host
        upload = _Upload(body)
        headers = {**self._headers, "Content-Length": str(len(body))}
        try:
            return self._pool.urlopen(
                "POST", self._target, body=upload, headers=headers, retries=False, redirect=False
            )
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            if not upload.sent:
                # Failed to connect, or while sending: SendGrid never had the whole request.
                raise TemporaryFailure(f"cannot reach SendGrid at {where}: {exc}") from exc
            raise AnswerLost(
                f"no answer from SendGrid at {where} after the request was sent "
                f"({type(exc).__name__}: {exc}); it may have been accepted"
            ) from exc

    def close(self) -> None:
        self._pool.close()
