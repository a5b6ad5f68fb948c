"""The archive, its feed and the home page on a real `mailer serve`, after issues went out
through the outbox by the real command line: newest first in pages, each issue as sent but
with nobody's data and no link that acts for anyone, `archive: false` honoured everywhere,
a feed a real feed parser reads, hostile titles escaped, and the issue page in Chromium."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from urllib.parse import quote

import feedparser
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, ConsoleMessage

from mailer.db.migrate import open_database
from tests.archive_helpers import (
    HOSTILE_SUBJECT,
    PERSONAL,
    READER_NAME,
    Sent,
    copy_campaign,
    sent,
)
from tests.web_server import WebServer, new_page

__all__ = ["sent"]  # fixtures

ISSUE_LINK = re.compile(r'href="/archive/(\d+)"')
HOSTILE_TITLE = "<img src=x onerror=alert('title')> Title"
# Page marks that are no issue number (400), or lead past either end (404).
BAD_MARKS = [
    ("before=abc", 400),
    ("before=-1", 400),
    ("before=%EF%BC%93", 400),  # a full-width digit
    ("before=1&after=5", 400),
    ("before=1", 404),
    ("after=91", 404),
]


def linked_issues(html: str) -> list[int]:
    return [int(number) for number in ISSUE_LINK.findall(html)]


def test_the_archive_lists_sent_issues_newest_first_in_pages(
    sent: Sent, web_server: WebServer
) -> None:
    engine = open_database(sent.project.settings().database.url)
    copy_campaign(engine, sent.campaigns[87], range(1, 46))
    engine.dispose()
    first = httpx.get(web_server.url("/archive"))
    assert first.status_code == 200
    assert linked_issues(first.text) == [91, 89, 88, 87, *range(45, 29, -1)]
    assert 'href="/archive?before=30"' in first.text and "after=" not in first.text
    second = httpx.get(web_server.url("/archive?before=30"))
    assert linked_issues(second.text) == list(range(29, 9, -1))
    assert 'href="/archive?after=29"' in second.text and 'href="/archive?before=10"' in second.text
    newer = httpx.get(web_server.url("/archive?after=29"))
    assert linked_issues(newer.text) == linked_issues(first.text)
    for query, status in BAD_MARKS:
        assert httpx.get(web_server.url(f"/archive?{query}")).status_code == status, query


def _policy(response: httpx.Response) -> dict[str, str]:
    rules = {}
    for rule in response.headers["content-security-policy"].split(";"):
        name, _, value = rule.strip().partition(" ")
        rules[name] = value
    return rules


def test_an_issue_page_shows_the_issue_with_no_personal_data_and_no_link_that_acts(
    sent: Sent, web_server: WebServer
) -> None:
    page = httpx.get(web_server.url("/archive/89"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Letters from our readers" in page.text
    assert "Dear reader, hello reader from ." in page.text
    assert not [value for value in PERSONAL if value in page.text]
    assert READER_NAME not in page.text and "<script" not in page.text
    assert "/unsubscribe/" not in page.text and "/preferences/" not in page.text
    for href in re.findall(r'href="([^"]*)"', page.text):
        assert "unsubscribe" not in href and "preferences" not in href, href
    # Its own policy: the mail's inline styles and https images, and still no script at all.
    rules = _policy(page)
    assert "script-src" not in rules and rules["default-src"] == "'none'"
    assert rules["style-src"] == "'unsafe-inline'" and "https:" in rules["img-src"]
    assert "allow-scripts" not in rules["sandbox"] and "allow-same-origin" not in rules["sandbox"]
    assert rules["frame-ancestors"] == "'none'" and rules["form-action"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"


def _view_in_browser(sent: Sent, number: int) -> str:
    folder = sent.project.root / "var" / "outbox" / f"campaign-{sent.campaigns[number]}"
    message = BytesParser(policy=policy.default).parsebytes(next(folder.glob("*.eml")).read_bytes())
    body = message.get_body(("html",))
    assert body is not None
    found = re.search(r'href="(https?://[^"]+)"[^>]*>View in your browser', str(body.get_content()))
    assert found is not None
    return found.group(1)


def test_the_view_in_browser_link_of_a_mail_opens_its_archive_page(
    sent: Sent, web_server: WebServer
) -> None:
    link = _view_in_browser(sent, 87)
    assert link.endswith("/archive/87")
    page = httpx.get(web_server.url("/" + link.split("/", 3)[3]))
    assert page.status_code == 200 and "A postal pact" in page.text


def test_archive_false_keeps_an_issue_out_of_the_list_its_page_the_feed_and_home(
    sent: Sent, web_server: WebServer
) -> None:
    assert httpx.get(web_server.url("/archive/90")).status_code == 404
    for path in ("/archive", "/", "/feed.xml"):
        answer = httpx.get(web_server.url(path))
        assert "archive/90" not in answer.text and "members only" not in answer.text, path
    for missing in ("92", "0", "99999999", "8%2F7", "%EF%BC%98%EF%BC%97", "87.0", "-87"):
        assert httpx.get(web_server.url(f"/archive/{missing}")).status_code == 404, missing


def test_the_feed_is_atom_a_feed_reader_reads_with_links_to_the_issue_pages(
    sent: Sent, web_server: WebServer
) -> None:
    answer = httpx.get(web_server.url("/feed.xml"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Tech in China Weekly"
    base = web_server.base_url
    assert feed.feed.id == f"{base}/feed.xml"
    assert [entry.link for entry in feed.entries] == [
        f"{base}/archive/{number}" for number in (91, 89, 88, 87)
    ]
    assert [entry.id for entry in feed.entries] == [entry.link for entry in feed.entries]
    by_link = {entry.link: entry for entry in feed.entries}
    letters = by_link[f"{base}/archive/89"]
    assert letters.title == "Letters from our readers"
    assert letters.summary == "What you wrote to us this month."
    assert letters.published_parsed is not None and letters.updated_parsed is not None
    assert feed.feed.updated_parsed is not None
    assert not [value for value in PERSONAL if value in answer.text]
    assert HOSTILE_TITLE not in answer.text and "&lt;img src=x" in answer.text


def test_the_home_page_has_the_name_the_signup_form_and_the_latest_issues(
    sent: Sent, web_server: WebServer
) -> None:
    home = httpx.get(web_server.url("/"))
    assert home.status_code == 200
    assert "<h1>Tech in China Weekly</h1>" in home.text
    assert '<form method="post" action="/signup">' in home.text
    assert 'name="list" value="weekly" checked' in home.text  # the one public list
    assert linked_issues(home.text) == [91, 89, 88, 87]
    assert 'href="/archive"' in home.text and 'href="/feed.xml"' in home.text


def test_hostile_titles_and_subjects_are_escaped_on_every_page(
    sent: Sent, web_server: WebServer
) -> None:
    for path in ("/", "/archive", "/archive/91"):
        text = httpx.get(web_server.url(path)).text
        assert HOSTILE_TITLE not in text and HOSTILE_SUBJECT not in text, path
        assert "<script" not in text and "<img src=x" not in text, path
    issue = httpx.get(web_server.url("/archive/91")).text
    assert "&lt;script&gt;alert(91)&lt;/script&gt;" in issue  # the subject, as text


@pytest.mark.browser
def test_an_issue_page_fits_a_phone_runs_nothing_and_leads_back_to_the_archive(
    sent: Sent, web_server: WebServer, chromium: Browser
) -> None:
    problems: list[str] = []
    for path in ("/", "/archive", "/archive/91", "/archive/87"):
        page = new_page(chromium, width=375, height=800)

        def console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                problems.append(message.text)

        page.on("console", console)
        page.on("dialog", lambda dialog: problems.append(f"a script ran: {dialog.message}"))
        page.goto(web_server.url(path), wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert page.locator("script").count() == 0, path
        if path != "/archive/87":
            page.context.close()
    assert problems == []
    bar = page.get_by_role("navigation", name="Past issues")
    box = bar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.get_by_role("link", name="All past issues").click()
    page.get_by_role("heading", name="Past issues").wait_for()
    assert page.url == web_server.url("/archive")
    page.context.close()


MARKS = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["before", "after"]), value=MARKS)
def test_any_page_mark_is_a_page_a_400_or_a_404(
    shared_web_server: WebServer, name: str, value: str
) -> None:
    answer = httpx.get(shared_web_server.url(f"/archive?{name}={quote(value, safe='')}"))
    assert answer.status_code in (200, 400, 404)
    numbered = value.isascii() and value.isdecimal() and len(value) <= 6
    assert (answer.status_code == 400) is not numbered


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=MARKS.filter(lambda text: text not in ("", ".", "..")))
def test_any_issue_path_that_is_not_a_sent_issue_is_a_404(
    shared_web_server: WebServer, value: str
) -> None:
    answer = httpx.get(shared_web_server.url(f"/archive/{quote(value, safe='')}"))
    if answer.status_code == 307:  # an encoded '/' at the end: the path without it is tried
        assert answer.headers["location"].startswith(shared_web_server.url("/archive"))
    else:
        assert answer.status_code == 404
