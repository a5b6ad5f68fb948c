"""The home page holds the signup form itself, the same one as /signup: its fields, the
public lists, the honeypot and the cookieless token, posting to /signup with no script; a
list's title is escaped there, and with no public list the home page offers no form."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from mailer.audience.lists import create_list
from tests.conftest import Project
from tests.web_server import WebServer, new_page
from tests.web_signup_helpers import form_token, make_lists, project_mailer, sent_mail, statuses

HOSTILE_LIST_TITLE = "<script>alert('list')</script> Weekly & more"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> WebServer:
    make_lists(db_project)
    return web_server


def test_the_home_page_holds_the_signup_form_and_its_token_is_taken(
    server: WebServer, db_project: Project
) -> None:
    with server.client() as client:
        home = client.get("/")
        assert home.status_code == 200
        assert '<form method="post" action="/signup">' in home.text
        for field in ('id="email" name="email"', 'id="name" name="name"', 'name="website"'):
            assert field in home.text, field
        assert 'value="weekly"' in home.text and 'value="daily"' in home.text
        assert "staff" not in home.text.lower()  # a private list is nobody else's business
        assert len(re.findall(r'id="email"', home.text)) == 1
        # The form needs nothing the home page did not allow before: no cookie, no frame.
        assert "set-cookie" not in home.headers
        assert home.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        answer = client.post(
            "/signup",
            data={"csrf_token": form_token(home), "email": "ada@example.com", "list": "daily"},
        )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}
    assert [str(message["To"]) for message in sent_mail(db_project, 1)] == ["ada@example.com"]


def test_a_hostile_list_title_is_escaped_on_the_home_page(
    db_project: Project, web_server: WebServer
) -> None:
    app = project_mailer(db_project)
    try:
        create_list(app.engine, "weekly", title=HOSTILE_LIST_TITLE, public=True)
    finally:
        app.close()
    home = httpx.get(web_server.url("/")).text
    assert "<script" not in home
    assert "&lt;script&gt;alert(&#39;list&#39;)&lt;/script&gt; Weekly &amp; more" in home
    # The one public list is ticked already, as on /signup.
    assert 'value="weekly" checked' in home


def test_with_no_public_list_the_home_page_offers_no_form(
    db_project: Project, web_server: WebServer
) -> None:
    app = project_mailer(db_project)
    try:
        create_list(app.engine, "staff", title="Staff only")
    finally:
        app.close()
    home = httpx.get(web_server.url("/"))
    assert home.status_code == 200
    assert "<form" not in home.text and "Get it by email" not in home.text
    assert "Latest issues" in home.text


@pytest.mark.browser
def test_signing_up_from_the_home_page_in_a_browser_to_a_single_opt_in_list(
    chromium: Browser, server: WebServer, db_project: Project
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", console)
    page.on("dialog", lambda dialog: problems.append(f"a script ran: {dialog.message}"))
    page.goto(server.url("/"))
    assert page.locator("script").count() == 0
    page.get_by_label("Email address").fill("bo@example.com")
    page.get_by_label("Name (optional)").fill("Bo")
    page.get_by_label("Weekly", exact=True).check()
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Thank you for subscribing")).to_be_visible()
    assert page.url == server.url("/signup")
    assert statuses(db_project, "bo@example.com") == {"weekly": "confirmed"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.context.close()
    assert problems == []
