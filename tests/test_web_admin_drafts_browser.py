"""Campaign drafts in a real headless Chromium at a phone's width (375 px): an editor who may
not send saves a draft from the new campaign's form and finds no way to send it; an admin
opens it, sees its audience counted, and schedules it. Nothing scrolls sideways, nothing the
policy refuses, no script error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.services import campaigns as campaign_service
from tests.admin_helpers import PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.sending import fill_list
from tests.web_server import SIGNING_KEY, WebServer, new_page

pytestmark = pytest.mark.browser
ADMIN = "admin@example.com"
EDITOR = "editor@example.com"  # an editor may not send unless told otherwise


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, ADMIN, Role.ADMIN)
    add_account(db_project, EDITOR, Role.EDITOR)
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        create_list(mailer.engine, "weekly", title="Weekly")
        fill_list(mailer.engine, 6, "weekly")
    finally:
        mailer.close()
    yield web_server


def _log_in(page: Page, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_editor_drafts_and_an_admin_schedules_it(
    chromium: Browser, server: WebServer, db_project: Project
) -> None:
    editor = new_page(chromium, width=375, height=800)
    problems = console_problems(editor)
    editor.goto(server.url("/admin/campaigns/new"))
    _log_in(editor, EDITOR)
    expect(editor.get_by_role("heading", name="New campaign")).to_be_visible()
    expect(editor.get_by_role("button", name="Send or schedule")).to_have_count(0)
    editor.get_by_label("Issue").select_option("87")
    editor.get_by_label("List").select_option("weekly")
    editor.get_by_label("Segment (optional)").fill('country = "CN"')
    assert_fits_width(editor)
    editor.get_by_role("button", name="Save as draft").click()
    expect(editor.get_by_role("heading", name="#1 issue 87 to weekly")).to_be_visible()
    expect(editor.locator("#draft-audience")).to_contain_text("3 recipients would get it now")
    expect(editor.get_by_role("link", name="Edit")).to_be_visible()
    expect(editor.get_by_role("button", name="Send now")).to_have_count(0)
    expect(editor.get_by_role("button", name="Schedule")).to_have_count(0)
    assert_fits_width(editor)

    admin = new_page(chromium, width=375, height=800)
    problems += console_problems(admin)
    admin.goto(server.url("/admin/campaigns"))
    _log_in(admin, ADMIN)
    row = admin.locator("#campaign-1")
    expect(row).to_contain_text("draft")
    row.get_by_role("link").click()
    expect(admin.locator("#draft-audience")).to_contain_text("3 recipients would get it now")
    expect(admin.get_by_role("button", name="Send now")).to_be_visible()
    admin.get_by_label("Time (empty: the draft's own)").fill("2030-01-15 09:00")
    admin.get_by_label("Time zone of that time").fill("Asia/Shanghai")
    admin.get_by_role("button", name="Schedule", exact=True).click()
    expect(admin.get_by_role("status")).to_contain_text("Campaign 1 is scheduled.")
    expect(admin.locator("#progress-status")).to_have_text("scheduled")
    expect(admin.get_by_text("2030-01-15 09:00 CST · 2030-01-15T01:00Z")).to_be_visible()
    assert_fits_width(admin)

    editor.reload()  # the editor now finds it scheduled, and nothing to do to it
    expect(editor.locator("#progress-status")).to_have_text("scheduled")
    expect(editor.get_by_role("link", name="Edit")).to_have_count(0)
    assert problems == []
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        assert campaign_service.show(mailer, 1).status == "scheduled"
    finally:
        mailer.close()
