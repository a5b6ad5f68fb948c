"""The admin app in a real headless Chromium at a phone's width (375 px): log in, the
dashboard with no sideways scrolling, adding a user and changing their role (through htmx,
which swaps the page's part in place), logging out; with nothing the content security policy
refuses and no script error. The same forms work with script off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.roles import Role
from tests.admin_helpers import OWNER, PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.web_server import WebServer, new_page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    yield web_server


def _log_in(page: Page, server: WebServer) -> None:
    page.goto(server.url("/admin/users"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_fits_width(page)
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_log_in_look_around_add_a_user_change_their_role_log_out(
    chromium: Browser, server: WebServer
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    _log_in(page, server)
    expect(page.get_by_role("heading", name="Users")).to_be_visible()  # back where it began

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    assert_fits_width(page)

    page.get_by_role("link", name="Users").click()
    form = page.locator("form", has=page.get_by_role("button", name="Add user"))
    form.get_by_label("Email address").fill("ed@example.com")
    form.get_by_label("Role").select_option("editor")
    form.get_by_label("Initial password (they can change it)").fill("fourteen chars!")
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_have_text("ed@example.com is added.")
    assert page.url == server.url("/admin/users")  # swapped in place by htmx, not a new page
    assert_fits_width(page)

    form = page.locator("form", has=page.get_by_role("button", name="Add user"))
    form.get_by_label("Email address").fill("weak@example.com")
    form.get_by_label("Initial password (they can change it)").fill("password1234")
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_contain_text("most common passwords")  # a 400, shown
    # The browser notes the refusal's status in its console, and that is all it notes.
    assert [problem for problem in problems if "status of 400" not in problem] == []
    problems.clear()

    row = page.locator("tr", has_text="ed@example.com")
    row.get_by_label("Role (ed@example.com)").select_option("admin")
    row.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_have_text("ed@example.com is now admin.")
    expect(
        page.locator("tr", has_text="ed@example.com").get_by_label("Role (ed@example.com)")
    ).to_have_value("admin")
    assert_fits_width(page)

    page.once("dialog", lambda dialog: dialog.dismiss())  # "Remove ed@example.com?" No.
    page.get_by_role("button", name="Remove ed@example.com").click()
    expect(page.locator("tr", has_text="ed@example.com")).to_be_visible()

    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_text("user.role")).to_be_visible()
    expect(page.get_by_text("user.remove")).to_have_count(0)  # the dismissed removal
    assert_fits_width(page)

    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert_fits_width(page)

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(server.url("/admin"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert problems == []


def test_the_forms_work_with_script_off(chromium: Browser, server: WebServer) -> None:
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page, server)
        form = page.locator("form", has=page.get_by_role("button", name="Add user"))
        form.get_by_label("Email address").fill("vi@example.com")
        form.get_by_label("Role").select_option("viewer")
        form.get_by_label("Initial password (they can change it)").fill("fourteen chars!")
        form.get_by_role("button", name="Add user").click()
        expect(page.get_by_role("status")).to_have_text("vi@example.com is added.")
        assert page.url == server.url("/admin/users/add")  # the form's own answer
        assert_fits_width(page)
    finally:
        context.close()
