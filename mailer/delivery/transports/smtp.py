"""Any SMTP server: STARTTLS or SSL, optional login, a few connections kept open and reused.

Up to ``[transport.smtp] connections`` batches go out at once, each over a connection of its
own taken from a small pool (``smtp_pool``) and given back when the batch is done. Messages
are personalized locally and sent one at a time, so a failure part way through a batch is
reported per recipient: the ones before it were accepted, the one on the wire is in doubt, the
rest were not tried. A connection that failed is closed, never lent again; the next batch gets
another.

Addresses go out with their domain in A-labels. An address whose local part is not ASCII can
only go to a server that offers SMTPUTF8; to any other it fails with that reason before
anything is sent, and the rest of the batch goes on. What the server offers is learnt per
connection.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from functools import partial

from mailer.clock import Clock, utc_now
from mailer.config import SmtpSettings
from mailer.delivery.transports.base import (
    BadRequest,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
)
from mailer.delivery.transports.smtp_pool import (
    SmtpConnection,
    SmtpPool,
    open_connection,
    smtp_reason,
)
from mailer.render.eml import Envelope, build_message
from mailer.render.pipeline import PersonalizedEmail
from mailer.render.wire_address import needs_smtputf8, wire_address


class SmtpTransport:
    name = "smtp"
    max_batch = 100

    def __init__(self, settings: SmtpSettings, password: str, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.concurrency = settings.connections
        self._pool = SmtpPool(settings.connections, partial(open_connection, settings, password))

    @property
    def _where(self) -> str:
        return f"the SMTP server {self.settings.host}:{self.settings.port}"

    def _refusal(self, connection: SmtpConnection, address: str) -> str | None:
        """Why this server cannot take the address, found before anything is sent."""
        if needs_smtputf8(address) and not connection.smtputf8:
            return (
                "the part of the address before the @ is not ASCII, which needs SMTPUTF8, "
                f"and {self._where} does not offer it"
            )
        return None

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest:
        return PreparedRequest(content, batch)  # personalized one by one while sending

    def deliver(self, request: PreparedRequest) -> BatchResult:
        content = request.content
        sender = wire_address(content.newsletter.from_email)
        with self._pool.lease() as connection:
            refused_sender = self._refusal(connection, sender)
            if not refused_sender:
                return self._send(connection, content, sender, request.batch)
        # Raised once the connection is back: nothing went wrong with it.
        raise BadRequest(
            f"the sender {content.newsletter.from_email}: {refused_sender}",
            names_recipients=False,
        )

    def _send(
        self,
        connection: SmtpConnection,
        content: BatchContent,
        sender: str,
        batch: Sequence[Outgoing],
    ) -> BatchResult:
        envelope = Envelope(content.newsletter, content.list_name, self.clock())
        result = BatchResult()
        for position, item in enumerate(batch):
            address = wire_address(item.recipient.email)
            refused = self._refusal(connection, address)
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
                connection.client.send_message(message, sender, [address])
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                self._refused(result, item, code, text)
            except smtplib.SMTPResponseException as exc:
                self._refused(result, item, exc.smtp_code, exc.smtp_error)
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                # The connection answered NOOP or the previous message just before, so this
                # message may have been on the wire when it died: in doubt, not retried blindly.
                result.in_doubt[item.key] = f"connection lost while sending: {exc}"
                self._lost(connection, result, batch[position + 1 :])
                break
            if connection.client.sock is None:
                # The server answered 421 and smtplib hung up: nothing after it is in doubt.
                self._lost(connection, result, batch[position + 1 :])
                break
        return result

    @staticmethod
    def _lost(connection: SmtpConnection, result: BatchResult, rest: Sequence[Outgoing]) -> None:
        connection.lost = True
        for item in rest:
            result.unsent[item.key] = "not tried: the connection was lost"

    @staticmethod
    def _refused(result: BatchResult, item: Outgoing, code: int, text: bytes | str) -> None:
        # 4xx too: retrying one address for ever inside a campaign helps nobody; the reason is
        # kept on the ledger row, where an editor sees it.
        result.rejected[item.key] = smtp_reason(code, text)

    def close(self) -> None:
        self._pool.close()
