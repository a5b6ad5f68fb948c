"""The issues pages in a real headless Chromium at a phone's width (375 px): an editor opens
the list, then an issue, sees the mail framed at phone width (its own script-free document)
and sends a test copy that arrives in the outbox; nothing the policy refuses, no script error,
no sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import Browser, expect

from mailer.accounts.roles import Role
from tests.admin_helpers import PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.web_server import WebServer, new_page

pytestmark = pytest.mark.browser
EDITOR = "editor@example.com"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, EDITOR, Role.EDITOR)
    yield web_server


def test_an_editor_previews_an_issue_at_phone_width_and_sends_a_test_copy(
    chromium: Browser, server: WebServer, db_project: Project
) -> None:
    page = new_page(chromium, width=375, height=800)
    # The mail's remote images are refused by the test browser (it reaches only loopback);
    # anything else said in the console is a problem.
    problems = console_problems(page, ignore=("Failed to load resource",))
    page.goto(server.url("/admin/issues"))
    page.get_by_label("Email address").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Issues")).to_be_visible()
    assert_fits_width(page)

    page.get_by_role("link", name="#87").click()
    expect(page.get_by_role("heading", name="Issue 87: A postal pact", exact=False)).to_be_visible()
    expect(page.get_by_text("Nothing found")).to_have_count(0)  # base_url is http: warnings
    phone = page.locator("#preview-phone")
    expect(phone).to_be_visible()
    box = phone.bounding_box()
    assert box is not None
    assert round(box["width"]) == 375 + 2  # the phone's width inside its border
    framed = page.frame_locator("#preview-phone")
    expect(framed.get_by_text("Three postal services agree", exact=False).first).to_be_visible()
    expect(page.locator("#text-part")).to_contain_text("Three postal services agree")
    assert_fits_width(page)

    page.get_by_label("Addresses").fill("Ann <ann@example.com>")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("status")).to_have_text("Test copy sent to ann@example.com via outbox.")
    assert page.url == server.url("/admin/issues/87")  # swapped in place by htmx
    assert_fits_width(page)
    (copy,) = (db_project.root / "var" / "outbox" / "test").glob("*.eml")
    message = message_from_bytes(copy.read_bytes(), policy=policy.default)
    assert str(message["To"]) == "Ann <ann@example.com>"
    assert str(message["Subject"]).startswith("[TEST] ")
    assert problems == []
