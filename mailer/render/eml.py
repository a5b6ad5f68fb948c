"""A complete RFC 5322 message for one recipient: multipart/alternative, text part first.

Headers carry per-recipient values only after ``header_safe`` folding, so a CR/LF in a name
can never start a header of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from mailer.config import NewsletterSettings
from mailer.render.pipeline import PersonalizedEmail
from mailer.render.tokens import Recipient, header_safe

ONE_CLICK = "List-Unsubscribe=One-Click"
# Lines up to RFC 5322's hard limit of 998: folding at the customary 78 makes Python turn a long
# List-Unsubscribe URL into encoded-words, which mail clients do not read as a link, and break
# a subject like "[TEST] ..." before its first word.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Envelope:
    newsletter: NewsletterSettings
    list_name: str
    sent_at: datetime


def list_id(newsletter: NewsletterSettings, list_name: str) -> str:
    domain = newsletter.list_id or urlsplit(newsletter.base_url).hostname or "localhost"
    label = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in list_name.lower()) or "list"
    return f"{header_safe(newsletter.name)} <{label}.{domain}>"


def _address(display_name: str, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=header_safe(display_name), username=local, domain=domain)


def build_message(
    envelope: Envelope, recipient: Recipient, content: PersonalizedEmail
) -> EmailMessage:
    newsletter = envelope.newsletter
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Subject"] = header_safe(content.subject)
    message["From"] = _address(newsletter.sender_name, newsletter.from_email)
    message["To"] = _address(recipient.name, recipient.email)
    if newsletter.reply_to:
        message["Reply-To"] = _address(newsletter.sender_name, newsletter.reply_to)
    message["Date"] = format_datetime(envelope.sent_at)
    message["Message-ID"] = make_msgid(domain=newsletter.from_email.rpartition("@")[2])
    message["List-Id"] = list_id(newsletter, envelope.list_name)
    message["List-Unsubscribe"] = f"<{header_safe(recipient.unsubscribe_url)}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(content.text, subtype="plain", charset="utf-8")
    message.add_alternative(content.html, subtype="html", charset="utf-8")
    return message
