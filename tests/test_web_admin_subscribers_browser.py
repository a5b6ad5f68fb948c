"""The subscribers pages in a real headless Chromium at a phone's width (375 px): log in, find
a subscriber by their name, open their page and read their history (what was sent to them,
what SendGrid told of it), subscribe them again with a reason and unsubscribe them; and,
with script off, add one, unsubscribe them from everything and forget them after the page
that says what it erases. No page scrolls sideways, nothing is refused by the content
security policy, no script error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers, find_subscribers
from tests.admin_helpers import OWNER, PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.report_fixtures import ARTICLE, Sent, posted_events
from tests.web_server import SIGNING_KEY, WebServer, new_page

pytestmark = pytest.mark.browser


def _log_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_find_a_subscriber_and_open_their_history_at_375_px(
    chromium: Browser, sent: Sent, db_project: Project
) -> None:
    add_account(db_project, OWNER, Role.OWNER)
    sent.post(posted_events(sent))
    create_list(sent.engine, "daily")
    add_subscribers(sent.engine, ["bob@example.com"], "daily", name="Robert Example")
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    _log_in(page, sent.server.url("/admin"))
    page.get_by_role("link", name="Subscribers").click()
    expect(page.get_by_role("heading", name="Subscribers", exact=True)).to_be_visible()
    assert_fits_width(page)

    page.get_by_label("Address or name starts with").fill("robert")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("td.address")).to_have_text(["bob@example.com"])
    assert "q=robert" in page.url  # the search is in the address, to share or go back to
    assert_fits_width(page)

    page.get_by_role("link", name="bob@example.com").click()
    expect(page.get_by_role("heading", name="Subscriber bob@example.com")).to_be_visible()
    deliveries = page.locator("table.deliveries tbody tr")
    expect(deliveries).to_have_count(1)
    expect(deliveries.first).to_contain_text(f"#{sent.campaign}")
    expect(deliveries.first).to_contain_text("delivered")
    events = page.locator("table.events tbody tr")
    expect(events).to_have_count(8)
    expect(events.nth(1)).to_contain_text("click")
    expect(events.nth(1)).to_contain_text(ARTICLE)
    expect(events.nth(1)).to_contain_text("2025-12-05 16:08:00")
    assert_fits_width(page)

    # SendGrid told of his unsubscribe from weekly; he asks to come back.
    form = page.locator("#resubscribe-form")
    form.get_by_label("To").select_option("weekly")
    form.get_by_label("Why (needed; kept in the audit log)").fill("asked by email")
    form.get_by_role("button", name="Subscribe again").click()
    expect(page.get_by_role("status")).to_have_text(
        "bob@example.com is subscribed to weekly again."
    )
    expect(page.locator("table.memberships tbody tr", has_text="weekly")).to_contain_text(
        "confirmed"
    )
    assert_fits_width(page)

    form = page.locator("#unsubscribe-form")
    form.get_by_label("From").select_option("daily")
    form.get_by_label("Reason (kept in the audit log)").fill("too many mails")
    form.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_have_text("bob@example.com is unsubscribed from daily.")
    expect(page.locator("table.memberships tbody tr", has_text="daily")).to_contain_text(
        "unsubscribed"
    )
    assert_fits_width(page)

    # A segment that cannot be read is shown at its field, its caret under the column.
    page.get_by_role("link", name="All subscribers").click()
    page.get_by_label("Segment (optional)").fill("country = CN and tags")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-segment-error")).to_contain_text("Column 11")
    assert_fits_width(page)
    # The browser's own note of the refusal's status is all it said.
    assert problems == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    opened = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    yield opened
    opened.close()


def test_the_subscriber_forms_work_with_script_off(
    chromium: Browser, db_project: Project, web_server: WebServer, mailer: Mailer
) -> None:
    add_account(db_project, OWNER, Role.OWNER)
    create_list(mailer.engine, "weekly")
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page, web_server.url("/admin/subscribers"))
        form = page.locator("#add-form")
        form.get_by_label("Email address").fill("a/b?c#d%e@example.com")
        form.get_by_label("weekly").check()
        form.get_by_label("Name", exact=True).fill("Odd Address")
        form.get_by_role("button", name="Add subscriber").click()
        expect(page.get_by_role("status")).to_have_text("a/b?c#d%e@example.com is added.")
        assert_fits_width(page)
        page.get_by_role("link", name="a/b?c#d%e@example.com").click()
        expect(page.get_by_role("heading", name="Subscriber a/b?c#d%e@example.com")).to_be_visible()

        form = page.locator("#resubscribe-form")
        expect(form).to_have_count(0)  # nothing left to come back to
        form = page.locator("#unsubscribe-form")
        form.get_by_label("From").select_option(label="every list (and suppress the address)")
        form.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("status")).to_have_text(
            "a/b?c#d%e@example.com is unsubscribed from weekly."
        )
        assert_fits_width(page)

        page.get_by_role("link", name="Forget this subscriber").click()
        expect(page.get_by_role("heading", name="Forget a/b?c#d%e@example.com?")).to_be_visible()
        expect(page.get_by_text("every list membership (1)")).to_be_visible()
        assert_fits_width(page)
        page.get_by_role("button", name="Forget a/b?c#d%e@example.com").click()
        expect(page.get_by_role("status")).to_contain_text("The subscriber is forgotten")
        expect(page.get_by_text("No subscriber matches.")).to_be_visible()
    finally:
        context.close()
    assert list(find_subscribers(mailer.engine)) == []
    assert [entry.action for entry in entries(mailer, limit=3)] == [
        "subscriber.forget",
        "subscriber.unsubscribe",
        "subscriber.add",
    ]
