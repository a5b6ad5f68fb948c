"""Every message mailer writes itself (``mailer render --format eml``, the outbox and the
smtp transports) has body lines of at most 76 characters (RFC 2045's limit for
quoted-printable), parts that decode back to exactly what was rendered, and an HTML part that
names its language and its colour schemes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa

from mailer.content import load_issue
from mailer.render.eml import Envelope, build_message
from mailer.render.mjml_compile import PREVIEW_STYLE
from mailer.render.tokens import Recipient
from tests.conftest import Project, sample_issue_paths
from tests.mail_checks import header_block, parse
from tests.wire_messages import SAMPLE_NUMBERS, Cli, wire_messages

QP_LINE_MAX = 76
HEADER_LINE_MAX = 998  # RFC 5322; a long List-Unsubscribe URL stays whole on one line
SENT_AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def assert_short_lines(raw: bytes, where: str) -> None:
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"\n" not in raw.replace(b"\r\n", b""), f"{where}: a bare line feed"
    for number, line in enumerate(head.split(b"\r\n"), 1):
        assert len(line) <= HEADER_LINE_MAX, f"{where}: header line {number}: {len(line)}"
    for number, line in enumerate(body.split(b"\r\n"), head.count(b"\r\n") + 3):
        assert len(line) <= QP_LINE_MAX, f"{where}: line {number} is {len(line)}: {line[:90]!r}"


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    found = {part.get_content_type(): part for part in message.iter_parts()}
    assert set(found) == {"text/plain", "text/html"}
    for part in found.values():
        assert isinstance(part, EmailMessage)
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    return found  # type: ignore[return-value]


def decoded(part: EmailMessage) -> str:
    """The part's text as a reader's client shows it: CR LF line ends read as line ends."""
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def assert_html_declares_language_and_schemes(html: str) -> None:
    document = lxml.html.document_fromstring(html)
    assert document.get("lang") == "en"
    metas = {meta.get("name"): meta.get("content") for meta in document.iter("meta")}
    assert metas.get("color-scheme") == "light dark"
    assert metas.get("supported-color-schemes") == "light dark"
    styles = " ".join(style.text or "" for style in document.iter("style"))
    assert "color-scheme: light dark" in styles and "prefers-color-scheme: dark" in styles
    [preheader] = [div for div in document.iter("div") if div.get("style") == PREVIEW_STYLE]
    assert "color" not in PREVIEW_STYLE.replace("mso-hide", "")
    assert (preheader.text or "").strip()


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_every_way_of_writing_a_sample_issue_keeps_lines_within_76_characters(
    db_project: Project, cli: Cli, project_engine: sa.Engine, number: int
) -> None:
    for way, raw in wire_messages(db_project, cli, project_engine, number).items():
        where = f"issue {number} as written by {way}"
        assert_short_lines(raw, where)
        message = parse(raw)
        html = decoded(parts(message)["text/html"])
        assert_html_declares_language_and_schemes(html)
        assert max(len(line) for line in html.split("\n")) < 998, where


# A reader whose values make long, non-ASCII lines once filled in.
READER = Recipient(
    "wang.fang@example.com",
    "王芳 " + "Wang Fang " * 12,
    "https://n.example.com/unsubscribe/" + "t" * 150 + ".s",
    "https://n.example.com/preferences/t.s",
)


@pytest.mark.parametrize("path", sample_issue_paths(), ids=lambda path: path.name[:4])
def test_each_part_decodes_to_exactly_what_was_rendered(project: Project, path: Path) -> None:
    settings = project.settings()
    issue = load_issue(project.issues / path.name)
    content = project.renderer().render(issue).personalize(READER)
    raw = build_message(Envelope(settings.newsletter, "weekly", SENT_AT), READER, content)
    data = raw.as_bytes()
    assert_short_lines(data, issue.path.name)
    assert header_block(data).isascii()
    found = parts(parse(data))
    assert decoded(found["text/html"]) == content.html
    assert decoded(found["text/plain"]) == content.text


def test_an_international_message_keeps_utf8_headers_and_short_body_lines(
    project: Project,
) -> None:
    reader = READER._replace(email="jörg@example.com")
    settings = project.settings()
    issue = load_issue(project.issues / sample_issue_paths()[0].name)
    content = project.renderer().render(issue).personalize(reader)
    data = build_message(Envelope(settings.newsletter, "weekly", SENT_AT), reader, content)
    raw = data.as_bytes()
    assert "jörg@example.com>".encode() in header_block(raw)
    assert_short_lines(raw, "international")
    found = parts(parse(raw))
    assert decoded(found["text/html"]) == content.html
