"""A complete RFC 5322 message for one recipient: multipart/alternative, text part first.

The headers that carry outside text (names, the subject, the newsletter's name) are written by
:mod:`mailer.render.headers`, never parsed again from text, so a name can never add a header or
an address whatever it holds. Addresses go out with their domain in A-labels; a message to or
from an address whose local part is not ASCII has UTF-8 headers (RFC 6532).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from mailer.config import NewsletterSettings
from mailer.render.headers import named_header, text_header
from mailer.render.pipeline import PersonalizedEmail
from mailer.render.tokens import Recipient, header_safe
from mailer.render.wire_address import (
    NoAsciiForm,
    ascii_domain,
    needs_smtputf8,
    wire_address,
)

ONE_CLICK = "List-Unsubscribe=One-Click"
# Header lines up to RFC 5322's hard limit of 998: folding at the customary 78 makes Python turn
# a long List-Unsubscribe URL into encoded-words, which mail clients do not read as a link. (The
# subject and the names are written by mailer.render.headers, which keeps a subject on one line.)
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)
# For a message with a non-ASCII local part in an address (RFC 6532 headers).
UTF8_POLICY = MESSAGE_POLICY.clone(utf8=True)
# The parts' bodies are encoded under this one: quoted-printable lines of at most 76 characters
# (RFC 2045), which spam filters check (SpamAssassin's MIME_QP_LONG_LINE).
BODY_POLICY = policy.SMTP.clone(max_line_length=76)
BODY_ENCODING = "quoted-printable"


@dataclass(frozen=True)
class Envelope:
    newsletter: NewsletterSettings
    list_name: str
    sent_at: datetime


def _list_identifier(newsletter: NewsletterSettings, list_name: str) -> str:
    domain = newsletter.list_id or urlsplit(newsletter.base_url).hostname or "localhost"
    try:
        domain = ascii_domain(domain)
    except NoAsciiForm:
        domain = "localhost"  # as for a base URL without a host: an identifier, not a route
    label = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in list_name.lower()) or "list"
    return f"{label}.{domain}"


def list_id(newsletter: NewsletterSettings, list_name: str) -> str:
    return f"{header_safe(newsletter.name)} <{_list_identifier(newsletter, list_name)}>"


def build_message(
    envelope: Envelope, recipient: Recipient, content: PersonalizedEmail
) -> EmailMessage:
    newsletter = envelope.newsletter
    sender = wire_address(newsletter.from_email)
    to = wire_address(recipient.email)
    reply_to = wire_address(newsletter.reply_to) if newsletter.reply_to else ""
    international = needs_smtputf8(sender + to + reply_to)
    message = EmailMessage(policy=BODY_POLICY)
    message["Subject"] = text_header("Subject", content.subject)
    message["From"] = named_header("From", [(newsletter.sender_name, sender)])
    message["To"] = named_header("To", [(recipient.name, to)])
    if reply_to:
        message["Reply-To"] = named_header("Reply-To", [(newsletter.sender_name, reply_to)])
    message["Date"] = format_datetime(envelope.sent_at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["List-Id"] = named_header(
        "List-Id", [(newsletter.name, _list_identifier(newsletter, envelope.list_name))]
    )
    message["List-Unsubscribe"] = f"<{header_safe(recipient.unsubscribe_url)}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(content.text, subtype="plain", charset="utf-8", cte=BODY_ENCODING)
    message.add_alternative(content.html, subtype="html", charset="utf-8", cte=BODY_ENCODING)
    # The bodies are encoded: from here on the policy only folds and writes the headers (a
    # generator writes every part with the policy of the message it is given).
    message.policy = UTF8_POLICY if international else MESSAGE_POLICY
    return message
