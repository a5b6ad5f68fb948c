"""Any SMTP server: STARTTLS or SSL, optional login, one connection reused across batches.

Messages are personalized locally and sent one at a time, so a failure part way through a
batch is reported per recipient: the ones before it were accepted, the one on the wire is in
doubt, the rest were not tried.

Addresses go out with their domain in A-labels. An address whose local part is not ASCII can
only go to a server that offers SMTPUTF8; to any other it fails with that reason before
anything is sent, and the rest of the batch goes on.
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
    BadRequest,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    TemporaryFailure,
)
from mailer.render.eml import Envelope, build_message
from mailer.render.pipeline import PersonalizedEmail
from mailer.render.wire_address import needs_smtputf8, wire_address

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
    concurrency = 1

    def __init__(self, settings: SmtpSettings, password: str, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.password = password
        self.clock = clock
        self._connection: smtplib.SMTP | None = None
        self._smtputf8 = False

    @property
    def _where(self) -> str:
        return f"the SMTP server {self.settings.host}:{self.settings.port}"

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
                    settings.host,
                    settings.port,
                    timeout=TIMEOUT_SECONDS,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
                if settings.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if settings.username:
                connection.login(settings.username, self.password)
            # The server's extensions (SMTPUTF8) are known only after EHLO.
            connection.ehlo_or_helo_if_needed()
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
        self._smtputf8 = connection.has_extn("smtputf8")
        return connection

    def _refusal(self, address: str) -> str | None:
        """Why this server cannot take the address, found before anything is sent."""
        if needs_smtputf8(address) and not self._smtputf8:
            return (
                "the part of the address before the @ is not ASCII, which needs SMTPUTF8, "
                f"and {self._where} does not offer it"
            )
        return None

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest:
        return PreparedRequest(content, batch)  # personalized one by one while sending

    def deliver(self, request: PreparedRequest) -> BatchResult:
        content, batch = request.content, request.batch
        connection = self._connect()
        envelope = Envelope(content.newsletter, content.list_name, self.clock())
        sender = wire_address(content.newsletter.from_email)
        refused_sender = self._refusal(sender)
        if refused_sender:
            raise BadRequest(
                f"the sender {content.newsletter.from_email}: {refused_sender}",
                names_recipients=False,
            )
        result = BatchResult()
        for position, item in enumerate(batch):
            address = wire_address(item.recipient.email)
            refused = self._refusal(address)
            if refused:
                result.rejected[item.key] = refused
                continue
            personalized = PersonalizedEmail(
                subject=content.subject,
                html=content.html.personalize(item.recipient),
                text=content.text.personalize(item.recipient),
            )
            message = build_message(envelope, item.recipient, personalized)
            try:
                connection.send_message(message, sender, [address])
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
