"""Campaigns in a real headless Chromium at a phone's width (375 px), with a real
``mailer worker`` sending through the outbox: an admin who may send counts the audience, sends
an issue now, watches the progress (htmx polling the ledger) reach sent, and finds it on the
campaigns page; nothing scrolls sideways, nothing the policy refuses, no script error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from tests.admin_helpers import PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.sending import fill_list
from tests.test_scheduler_worker import Worker
from tests.web_server import SIGNING_KEY, WebServer, new_page

pytestmark = pytest.mark.browser
ADMIN = "admin@example.com"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, ADMIN, Role.ADMIN)  # an admin sends unless told otherwise
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        create_list(mailer.engine, "weekly", title="Weekly")
        fill_list(mailer.engine, 6, "weekly")
    finally:
        mailer.close()
    yield web_server


@pytest.fixture
def worker(db_project: Project) -> Iterator[Worker]:
    running = Worker(db_project)
    yield running
    running.stop()


def test_send_now_and_watch_the_progress_reach_sent(
    chromium: Browser, server: WebServer, worker: Worker, db_project: Project
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    page.goto(server.url("/admin/campaigns"))
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(page.get_by_text("No campaign yet.")).to_be_visible()
    assert_fits_width(page)

    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    assert_fits_width(page)
    page.get_by_label("Issue").select_option("87")
    page.get_by_label("Segment (optional)").fill('country = "CN"')
    page.get_by_role("button", name="Count recipients").click()
    expect(page.locator("#audience-count")).to_have_text("3 recipients would get it now.")
    assert page.url == server.url("/admin/campaigns/new")  # counted in place by htmx
    page.get_by_label("Segment (optional)").fill("")
    page.get_by_label("List").select_option("weekly")
    page.get_by_role("button", name="Count recipients").click()
    expect(page.locator("#audience-count")).to_have_text("6 recipients would get it now.")

    page.get_by_label("Now").check()
    page.get_by_role("button", name="Send or schedule").click()
    expect(page.get_by_role("heading", name="#1 issue 87 to weekly")).to_be_visible()
    # The worker sends it; the page follows the ledger (polled every 2 s) until it is sent.
    expect(page.locator("#progress-status")).to_have_text("sent", timeout=60_000)
    expect(page.locator("#progress-sent")).to_have_text("6")
    expect(page.get_by_text("Nothing can be done to it now.")).to_be_visible()
    assert_fits_width(page)

    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    row = page.locator("#campaign-1")
    expect(row).to_contain_text("sent")
    expect(row).to_contain_text("6 / 6")
    assert_fits_width(page)
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="#1 issue 87 to weekly")).to_be_visible()
    outbox = db_project.settings().transport.outbox.dir / "campaign-1"
    assert len(list(outbox.glob("*.eml"))) == 6
    assert problems == []


def test_schedule_and_cancel_with_script_off(chromium: Browser, server: WebServer) -> None:
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 800}
    )
    page = context.new_page()
    page.goto(server.url("/admin/campaigns/new"))
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    page.get_by_label("Issue").select_option("87")  # the newest, 88, is marked a draft
    page.get_by_role("button", name="Count recipients").click()  # a plain GET of the form
    expect(page.locator("#audience-count")).to_have_text("6 recipients would get it now.")
    page.get_by_label("At a time", exact=True).check()
    page.get_by_label("Time", exact=True).fill("2020-01-01 09:00")
    page.get_by_role("button", name="Send or schedule").click()
    expect(page.locator("#at-error")).to_contain_text("is in the past")
    page.get_by_label("Time", exact=True).fill("+2h")
    page.get_by_role("button", name="Send or schedule").click()
    expect(page.locator("#progress-status")).to_have_text("scheduled")
    assert_fits_width(page)
    page.get_by_role("button", name="Cancel campaign").click()
    expect(page.get_by_role("status")).to_contain_text("is cancelled.")
    expect(page.locator("#progress-status")).to_have_text("cancelled")
    context.close()
