"""Lists, suppressions and schedules in a real headless Chromium at a phone's width (375 px):
log in, create a list and see it among the lists, change its title, look at what deleting it
would touch, lift a suppression with a reason, look at the schedules; no page scrolls
sideways, nothing is refused by the content security policy, no script error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.suppressions import suppress, suppressions_after
from mailer.services import schedules as schedule_service
from tests.admin_helpers import OWNER, PASSWORD, add_account, opened_mailer
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.web_server import WebServer, new_page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def test_create_a_list_change_its_title_and_lift_a_suppression_at_375_px(
    chromium: Browser, server: WebServer, mailer: Mailer
) -> None:
    suppress(mailer.engine, "bounced@example.com", "bounce")
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    page.goto(server.url("/admin/lists"))
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Lists", exact=True)).to_be_visible()
    expect(page.get_by_text("No list yet.")).to_be_visible()
    assert_fits_width(page)

    form = page.locator("form", has=page.get_by_role("button", name="Create list"))
    form.get_by_label("Name (lower-case letters, digits, - and _)").fill("weekly")
    form.get_by_label("Title (shown to subscribers; the name if empty)").fill("Weekly news")
    form.get_by_label("Public: offered on the signup page").check()
    form.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("status")).to_have_text("List weekly is created.")
    assert page.url == server.url("/admin/lists")  # swapped in place by htmx
    row = page.locator("tr", has_text="weekly")
    expect(row).to_contain_text("Weekly news")
    expect(row).to_contain_text("public")
    assert_fits_width(page)

    row.get_by_role("link", name="weekly").click()
    expect(page.get_by_role("heading", name="List weekly")).to_be_visible()
    assert_fits_width(page)
    page.get_by_label("Title (shown to subscribers; the name if empty)").fill("Monday news")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("List weekly is saved.")
    expect(page.locator("dd.list-title")).to_have_text("Monday news")

    page.get_by_role("link", name="Delete this list").click()
    expect(page.get_by_role("heading", name="Delete list weekly?")).to_be_visible()
    expect(page.get_by_text("Its 0 memberships are deleted")).to_be_visible()
    assert_fits_width(page)
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", name="List weekly")).to_be_visible()

    page.get_by_role("link", name="Suppressions").click()
    expect(page.get_by_role("heading", name="Suppressions")).to_be_visible()
    assert_fits_width(page)
    suppressed = page.locator("tr", has_text="bounced@example.com")
    suppressed.get_by_label("Why lift it (bounced@example.com)").fill("mailbox fixed")
    suppressed.get_by_role("button", name="Lift bounced@example.com").click()
    expect(page.get_by_role("status")).to_have_text("bounced@example.com may be mailed again.")
    expect(page.locator("tr", has_text="bounced@example.com")).to_have_count(0)
    assert_fits_width(page)

    schedule_service.add(mailer, "mondays", cron="0 9 * * MON", list_name="weekly")
    page.get_by_role("link", name="Schedules").click()
    expect(page.locator("tr", has_text="mondays")).to_contain_text("0 9 * * MON")
    assert_fits_width(page)

    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_text("suppression.remove")).to_be_visible()
    expect(page.get_by_text("mailbox fixed")).to_be_visible()
    assert problems == []
    assert suppressions_after(mailer.engine, None, 10) == []


def test_the_list_forms_work_with_script_off(chromium: Browser, server: WebServer) -> None:
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(server.url("/admin/lists"))
        page.get_by_label("Email address").fill(OWNER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        form = page.locator("form", has=page.get_by_role("button", name="Create list"))
        form.get_by_label("Name (lower-case letters, digits, - and _)").fill("daily")
        form.get_by_role("button", name="Create list").click()
        expect(page.get_by_role("status")).to_have_text("List daily is created.")
        page.get_by_role("link", name="daily").click()
        page.get_by_role("link", name="Delete this list").click()
        page.get_by_role("button", name="Delete list daily").click()
        expect(page.get_by_role("status")).to_have_text("List daily is deleted (0 memberships).")
        expect(page.get_by_text("No list yet.")).to_be_visible()
    finally:
        context.close()
