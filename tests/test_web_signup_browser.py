"""Signing up in a real headless Chromium: through the form framed by a page on another site
(where the browser keeps this site's cookies from the frame), then the mail's link and its
button; with no script anywhere and nothing the content security policy refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.conftest import Project
from tests.servers import serve
from tests.web_server import WebServer, new_page
from tests.web_signup_helpers import confirm_link, make_lists, sent_mail, statuses

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> WebServer:
    make_lists(db_project)
    return web_server


@pytest.fixture
def other_site(server: WebServer) -> Iterator[str]:
    """A page on another site (localhost, where the server is 127.0.0.1) framing the form."""

    def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><title>A blog</title><h1>A blog</h1>"
            f'<iframe src="{server.url("/signup?form=blog")}" title="Sign up" '
            'style="width:100%;height:1100px;border:0"></iframe>'
        )

    with serve(Starlette(routes=[Route("/", page)])) as base_url:
        yield base_url.replace("127.0.0.1", "localhost")


def _watched(page: Page) -> list[str]:
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", console)
    page.on("dialog", lambda dialog: problems.append(f"a script ran: {dialog.message}"))
    return problems


def test_signup_framed_on_another_site_then_confirmed_by_the_button(
    chromium: Browser, server: WebServer, other_site: str, db_project: Project
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems = _watched(page)
    page.goto(other_site)
    form = page.frame_locator("iframe")
    form.get_by_label("Email address").fill("ada@example.com")
    form.get_by_label("Name (optional)").fill("<b>Ada</b>")
    form.get_by_label("Daily <Briefing>").check()
    form.get_by_role("button", name="Sign up").click()
    expect(form.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(form.get_by_text("Check your inbox")).to_be_visible()
    assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}

    [message] = sent_mail(db_project, 1)
    reader = new_page(chromium, width=375, height=800)
    problems += _watched(reader)
    reader.goto(confirm_link(server, message))
    expect(reader.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}
    reader.get_by_role("button", name="Confirm my subscription").click()
    expect(reader.get_by_role("heading", name="Subscription confirmed")).to_be_visible()
    assert statuses(db_project, "ada@example.com") == {"daily": "confirmed"}
    width = reader.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    assert problems == []


def test_the_form_is_usable_with_the_keyboard_alone(
    chromium: Browser, server: WebServer, db_project: Project
) -> None:
    page = new_page(chromium, width=1280, height=900)
    problems = _watched(page)
    page.goto(server.url("/signup"))
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the newsletter's name
    page.keyboard.press("Tab")
    page.keyboard.type("bo@example.com")
    page.keyboard.press("Tab")  # the name
    page.keyboard.press("Tab")  # the first list (by title: Daily <Briefing>)
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the second list; the hidden field is skipped
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert statuses(db_project, "bo@example.com") == {"daily": "unconfirmed"}
    assert problems == []
