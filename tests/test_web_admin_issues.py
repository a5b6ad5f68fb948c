"""The admin app's issues pages on a real ``mailer serve``: the list with each issue's status,
findings and the lists it went to; one issue's findings with file:line, its preview framed
from its own address under a policy of its own, and its text part; test copies sent through
the outbox and written to the audit log; roles, CSRF, hostile front matter and input, and
numbers that name no issue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from tests.admin_helpers import OWNER, VIEWER, add_account, form_token, logged_in, opened_mailer
from tests.conftest import Project
from tests.web_server import WebServer

EDITOR = "editor@example.com"
HOSTILE_TITLE = '<script>alert("x")</script>'
HOSTILE_ISSUE = """---
number: 90
title: '<script>alert("x")</script>'
subject: 'Say "hi" & <b>bold</b>'
date: 2026-12-01
template: digest
---
Hello.

![](https://www.example.com/no-alt.png)
"""
BROKEN_ISSUE = """---
number: 91
title: Broken
subject: Broken
date: not a date
template: digest
---
Body.
"""


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    add_account(db_project, EDITOR, Role.EDITOR)
    add_account(db_project, VIEWER, Role.VIEWER)
    db_project.write_issue("0090-hostile.md", HOSTILE_ISSUE)
    db_project.write_issue("0091-broken.md", BROKEN_ISSUE)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as app:
        yield app


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def _row(page: httpx.Response, number: int) -> str:
    found = re.search(rf'<tr id="issue-{number}">(.*?)</tr>', page.text, re.S)
    assert found, page.text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def _sent_copies(project: Project) -> list[Path]:
    folder = project.root / "var" / "outbox" / "test"
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def test_the_list_shows_status_findings_and_the_lists_an_issue_went_to(
    server: WebServer, mailer: Mailer
) -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with write_transaction(mailer.engine) as connection:
        for list_name, started in (("weekly", now), ("daily", now), ("later", None)):
            connection.execute(
                sa.insert(campaigns).values(
                    issue_number=87,
                    issue_file="0087-postal-pact-and-ai-talent.md",
                    list_name=list_name,
                    transport="outbox",
                    status="sent" if started else "scheduled",
                    created_at=now,
                    updated_at=now,
                    started_at=started,
                )
            )
    with logged_in(server, VIEWER) as viewer:
        page = viewer.get("/admin/issues")
    assert page.status_code == 200
    assert 'href="/admin/issues" aria-current="page"' in page.text  # in the nav, current
    row = _row(page, 87)
    assert "#87" in row and "A postal pact" in row and "ready" in row and "2018-11-18" in row
    assert "0 errors," in row
    assert "daily, weekly" in row and "later" not in row  # only those that started sending
    assert "not sent" in _row(page, 88)
    hostile = _row(page, 90)
    assert "draft" in hostile and "1 errors," in hostile
    assert HOSTILE_TITLE not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    broken = _row(page, 91)
    assert "invalid" in broken and "0091-broken.md" in broken and "1 errors" in broken


def test_an_issue_shows_its_findings_where_they_are_its_preview_and_text_part(
    server: WebServer,
) -> None:
    with logged_in(server, VIEWER) as viewer:
        page = viewer.get("/admin/issues/90")
        email = viewer.get("/admin/issues/90/email.html")
        broken = viewer.get("/admin/issues/91")
    assert page.status_code == 200
    text = _text(page)
    assert (
        "issues/0090-hostile.md:10 image &#39;https://www.example.com/no-alt.png&#39; has no alt"
        in text
    )
    assert "issues/0090-hostile.md:2 no preheader" in text
    # Hostile front matter is shown as text, never as markup.
    assert HOSTILE_TITLE not in page.text and "<b>bold</b>" not in page.text
    assert "Say &#34;hi&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page.text
    # The preview: the mail framed from its own address, sandboxed, at both widths.
    frames = re.findall(r"<iframe [^>]*>", page.text)
    assert len(frames) == 2
    for frame in frames:
        assert " sandbox " in frame and 'src="/admin/issues/90/email.html"' in frame
    assert 'width="375"' in frames[1] and 'width="640"' in frames[0]
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r'<pre id="text-part" class="text-part">[^<]*Hello\.[^<]*Room 1201', page.text)

    assert email.status_code == 200 and email.headers["content-type"].startswith("text/html")
    assert "<mjml" not in email.text and "Hello." in email.text
    policy_header = email.headers["content-security-policy"]
    assert "default-src 'none'" in policy_header and "script-src" not in policy_header
    assert "frame-ancestors 'self'" in policy_header and "sandbox" in policy_header
    assert "img-src https: http: data:" in policy_header
    assert email.headers["x-frame-options"] == "SAMEORIGIN"

    assert broken.status_code == 200
    assert "issues/0091-broken.md:5 date:" in _text(broken)
    assert "cannot be rendered" in broken.text and "<iframe" not in broken.text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/issues/999",
        "/admin/issues/abc",
        "/admin/issues/0x57",
        "/admin/issues/%C2%B2",
        "/admin/issues/1234567",
        "/admin/issues/..%2F..%2Fmailer.toml",
        "/admin/issues/999/email.html",
        "/admin/issues/..%2Fissues%2F0087-postal-pact-and-ai-talent.md/email.html",
    ],
)
def test_a_number_that_names_no_issue_is_not_found(server: WebServer, path: str) -> None:
    with logged_in(server, VIEWER) as viewer:
        answer = viewer.get(path)
    assert answer.status_code == 404
    assert "Page not found" in answer.text


def test_an_editor_sends_test_copies_through_the_outbox_and_the_audit_log_says_so(
    server: WebServer, db_project: Project, mailer: Mailer
) -> None:
    with logged_in(server, EDITOR) as editor:
        token = form_token(editor, "/admin/issues/87")
        answer = editor.post(
            "/admin/issues/87/test-send",
            data={
                "csrf_token": token,
                "to": "Ann <ann@example.com>\n\n  bo@example.com \nANN@example.com",
            },
        )
    assert answer.status_code == 200, answer.text
    assert "Test copy sent to ann@example.com, bo@example.com via outbox." in answer.text
    copies = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in _sent_copies(db_project)
    ]
    assert sorted(str(copy["To"]) for copy in copies) == ["Ann <ann@example.com>", "bo@example.com"]
    assert all(str(copy["Subject"]).startswith("[TEST] Tech in China #87") for copy in copies)
    (entry,) = entries(mailer, action_prefix="issue.")
    assert (entry.actor, entry.action, entry.target) == (
        EDITOR,
        "issue.test_send",
        "0087-postal-pact-and-ai-talent.md",
    )
    assert entry.detail == {
        "to": ["ann@example.com", "bo@example.com"],
        "refused": {},
        "transport": "outbox",
    }


@pytest.mark.parametrize(
    ("to", "said"),
    [
        ("", "to: give 1 to 5 addresses"),
        (
            "\n".join(f"r{index}@example.com" for index in range(6)),
            "to: give 1 to 5 addresses (got 6)",
        ),
        ("not an address", "to &#39;not an address&#39;"),
        ('<script>alert("x")</script>', "to &#39;&lt;script&gt;"),
        ("a@example.com\x00", "to &#39;a@example.com"),
    ],
)
def test_a_test_send_to_wrong_addresses_is_refused_naming_the_field(
    server: WebServer, db_project: Project, to: str, said: str
) -> None:
    with logged_in(server, EDITOR) as editor:
        token = form_token(editor, "/admin/issues/87")
        answer = editor.post("/admin/issues/87/test-send", data={"csrf_token": token, "to": to})
    assert answer.status_code == 400, answer.text
    assert said in answer.text
    assert '<script>alert("x")' not in answer.text
    assert _sent_copies(db_project) == []


def test_an_issue_with_errors_is_not_sent_and_says_why(
    server: WebServer, db_project: Project
) -> None:
    with logged_in(server, EDITOR) as editor:
        token = form_token(editor, "/admin/issues/90")
        answer = editor.post(
            "/admin/issues/90/test-send", data={"csrf_token": token, "to": "ann@example.com"}
        )
        unknown = editor.post(
            "/admin/issues/999/test-send", data={"csrf_token": token, "to": "ann@example.com"}
        )
    assert answer.status_code == 400
    assert "has errors, so nothing was sent" in answer.text and "no alt text" in answer.text
    assert unknown.status_code == 404
    assert _sent_copies(db_project) == []


def test_a_viewer_may_look_but_not_send_and_every_send_needs_its_csrf_token(
    server: WebServer, db_project: Project, mailer: Mailer
) -> None:
    with logged_in(server, VIEWER) as viewer:
        page = viewer.get("/admin/issues/87")
        token = form_token(viewer, "/admin/issues/87")
        refused = viewer.post(
            "/admin/issues/87/test-send", data={"csrf_token": token, "to": "ann@example.com"}
        )
    assert page.status_code == 200 and "test-send" not in page.text.split('id="test-send"')[1]
    assert refused.status_code == 403 and "editing issues" in refused.text
    with logged_in(server, OWNER) as owner:
        forged = owner.post("/admin/issues/87/test-send", data={"to": "ann@example.com"})
    assert forged.status_code == 403 and "The form could not be sent" in forged.text
    with server.client() as anonymous:
        assert anonymous.get("/admin/issues/87/email.html").status_code == 303
    assert _sent_copies(db_project) == []
    assert entries(mailer, action_prefix="issue.") == []
