"""The complete message: parsed back strictly, with every header a mail client relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from mailer.content import load_issue
from mailer.render.eml import Envelope, build_message
from mailer.render.tokens import Recipient
from tests.conftest import Project

SENT_AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def message_for(project: Project, reader: Recipient) -> EmailMessage:
    settings = project.settings()
    issue = load_issue(project.issues / "0087-postal-pact-and-ai-talent.md")
    content = project.renderer().render(issue).personalize(reader)
    envelope = Envelope(settings.newsletter, "weekly", SENT_AT)
    raw = build_message(envelope, reader, content).as_bytes()
    parsed = BytesParser(policy=policy.strict).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_parses_strictly_with_every_header(project: Project) -> None:
    reader = Recipient(
        "wang.fang@example.com",
        "王芳",
        "https://n.example.com/unsubscribe/t.s",
        "https://n.example.com/preferences/t.s",
    )
    message = message_for(project, reader)
    for header in (
        "Date",
        "Message-ID",
        "From",
        "To",
        "Subject",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
        "MIME-Version",
    ):
        assert message[header], header
    assert message["List-Unsubscribe"] == "<https://n.example.com/unsubscribe/t.s>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Tech in China Weekly <weekly.newsletter.example.com>"
    assert message["To"] == "王芳 <wang.fang@example.com>"
    assert message["Date"] == "Mon, 23 Nov 2026 01:00:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text, html = (part.get_content() for part in message.iter_parts())
    assert "Korea Post" in text and "Korea Post" in html
    assert "https://n.example.com/unsubscribe/t.s" in text


def test_a_long_unsubscribe_link_and_subject_stay_plain_header_lines(project: Project) -> None:
    link = "https://newsletter.example.com/unsubscribe/" + "a" * 120 + ".signature"
    reader = Recipient("reader@example.com", "Reader", link, link)
    settings = project.settings()
    issue = load_issue(project.issues / "0087-postal-pact-and-ai-talent.md")
    content = project.renderer().render(issue).personalize(reader)
    long_subject = "[TEST] " + content.subject + " and a few more words to pass 78 characters"
    content = type(content)(long_subject, content.html, content.text)
    raw = build_message(Envelope(settings.newsletter, "weekly", SENT_AT), reader, content)
    lines = raw.as_bytes().decode().split("\r\n")
    assert f"List-Unsubscribe: <{link}>" in lines
    assert f"Subject: {long_subject}" in lines


def test_line_breaks_in_a_name_never_create_a_header(project: Project) -> None:
    reader = Recipient(
        "a@example.com", "Eve\r\nBcc: victim@example.net\nX-Evil: 1", "https://n.example.com/u/x"
    )
    message = message_for(project, reader)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "victim@example.net" in str(message["To"])
    assert message["To"].addresses[0].addr_spec == "a@example.com"
