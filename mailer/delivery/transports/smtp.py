"""Any SMTP server: STARTTLS or SSL, optional login, one connection reused across batches.

Messages are personalized locally and sent one at a time, so a failure part way through a
batch is reported per recipient: the ones before it were accepted, the one on the wire is in
doubt, the rest were not tried.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence

from mailer.clock import Clock, utc_now
from mailer.config import SmtpSettings
from mailer.delivery.transports.base import (
    AuthenticationFailed,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    TemporaryFailure,
)
from mailer.render.eml import Envelope, build_message
from mailer.render.pipeline import PersonalizedEmail

TIMEOUT_SECONDS = 60.0


def _reason(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"SMTP {code} {message}".strip()


def _close(connection: smtplib.SMTP | None) -> None:
    """Close a connection that failed half way through being set up."""
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


class SmtpTransport:
    name = "smtp"
    max_batch = 100

    def __init__(self, settings: SmtpSettings, password: str, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.password = password
        self.clock = clock
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            try:
                self._connection.noop()
                return self._connection
            except smtplib.SMTPException:
                self._connection = None
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        connection: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=TIMEOUT_SECONDS,
                    context=ssl.create_default_context(),
                )  # fmt: skip
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
                if settings.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if settings.username:
                connection.login(settings.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            _close(connection)
            raise AuthenticationFailed(
                f"the SMTP server {where} refused the login {settings.username!r}: "
                f"{_reason(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _close(connection)
            raise AuthenticationFailed(f"the SMTP server {where}: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            _close(connection)
            raise TemporaryFailure(f"cannot reach the SMTP server {where}: {exc}") from exc
        self._connection = connection
        return connection

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest:
        return PreparedRequest(content, batch)  # personalized one by one while sending

    def deliver(self, request: PreparedRequest) -> BatchResult:
        content, batch = request.content, request.batch
        connection = self._connect()
        envelope = Envelope(content.newsletter, content.list_name, self.clock())
        result = BatchResult()
        for position, item in enumerate(batch):
            personalized = PersonalizedEmail(
                subject=content.subject,
                html=content.html.personalize(item.recipient),
                text=content.text.personalize(item.recipient),
            )
            message = build_message(envelope, item.recipient, personalized)
            try:
                connection.send_message(
                    message, content.newsletter.from_email, [item.recipient.email]
                )
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                self._refused(result, item, code, text)
            except smtplib.SMTPResponseException as exc:
                self._refused(result, item, exc.smtp_code, exc.smtp_error)
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                # The connection answered NOOP just before, so the message may have been on
                # the wire when it died: in doubt, not retried blindly.
                self._connection = None
                result.in_doubt[item.key] = f"connection lost while sending: {exc}"
                for rest in batch[position + 1 :]:
                    result.unsent[rest.key] = "not tried: the connection was lost"
                break
        return result

    @staticmethod
    def _refused(result: BatchResult, item: Outgoing, code: int, text: bytes | str) -> None:
        # 4xx too: retrying one address for ever inside a campaign helps nobody; the reason is
        # kept on the ledger row, where an editor sees it.
        result.rejected[item.key] = _reason(code, text)

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None
