"""The transport a campaign names, set up from the settings; a missing secret is an error that
says which environment variable to set."""

from __future__ import annotations

import os
from collections.abc import Mapping

from mailer.config import Settings
from mailer.db.tables import TRANSPORTS
from mailer.delivery.transports.base import Transport
from mailer.errors import FieldError, MailerError


def check_transport_name(name: str) -> str:
    if name not in TRANSPORTS:
        raise FieldError("transport", f"use one of {', '.join(TRANSPORTS)}", name)
    return name


def make_transport(
    name: str, settings: Settings, environ: Mapping[str, str] | None = None
) -> Transport:
    environ = os.environ if environ is None else environ
    check_transport_name(name)
    if name == "outbox":
        from mailer.delivery.transports.outbox import OutboxTransport

        return OutboxTransport(settings.transport.outbox.dir)
    if name == "smtp":
        from mailer.delivery.transports.smtp import SmtpTransport

        smtp = settings.transport.smtp
        password = environ.get(smtp.password_env, "")
        if smtp.username and not password:
            raise MailerError(
                f"transport smtp: [transport.smtp] username is set but ${smtp.password_env} "
                "(named by password_env) holds no password"
            )
        return SmtpTransport(smtp, password)
    from mailer.delivery.transports.sendgrid import SendGridTransport

    sendgrid = settings.transport.sendgrid
    key = environ.get(sendgrid.api_key_env, "")
    if not key:
        raise MailerError(
            f"transport sendgrid: no API key; set ${sendgrid.api_key_env} "
            "(named by [transport.sendgrid] api_key_env)"
        )
    return SendGridTransport(sendgrid, key)
