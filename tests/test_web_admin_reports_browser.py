"""A campaign's life as an admin sees it, in a real headless Chromium against a real
``mailer serve`` (with SendGrid's webhook key) and a real ``mailer worker`` sending through
the outbox: schedule an issue for a time, its time comes (the test moves the clock, not the
wall), watch the progress reach sent, SendGrid's signed events come in, open the report and
see the charts and the links at a desktop's width and a phone's (375 px), then filter the
recipients; nothing scrolls sideways, nothing the policy refuses, no script error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.roles import Role
from mailer.audience.lists import create_list
from mailer.db.migrate import open_database
from mailer.db.tables import subscribers
from mailer.delivery.campaigns import show_campaign
from mailer.scheduling.one_off import start_due
from tests.admin_helpers import PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.events_helpers import KEY_VARIABLE, event, unique
from tests.sending import fill_list
from tests.test_scheduler_worker import Worker
from tests.web_server import WebServer, new_page, running_server
from tests.webhook_signing import Signer, post_signed

pytestmark = pytest.mark.browser
ADMIN = "admin@example.com"
HOUR = 1764946800  # 2025-12-05T15:00:00Z
HOME = "https://example.com/home"
ARTICLE = "https://example.com/article?<b>"


@pytest.fixture
def engine(db_project: Project) -> Iterator[sa.Engine]:
    found = open_database(db_project.settings().database.url)
    yield found
    found.dispose()


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def server(db_project: Project, engine: sa.Engine, signer: Signer) -> Iterator[WebServer]:
    add_account(db_project, ADMIN, Role.ADMIN)
    create_list(engine, "weekly", title="Weekly")
    assert fill_list(engine, 6, "weekly")
    with running_server(db_project, {KEY_VARIABLE: signer.public_key}) as running:
        yield running


@pytest.fixture
def worker(db_project: Project, server: WebServer) -> Iterator[Worker]:
    running = Worker(db_project)
    yield running
    running.stop()


def _events(engine: sa.Engine, campaign_id: int) -> list[dict[str, Any]]:
    """Six readers: four delivered, one bounced for good, one blocked; opens over two hours
    (reader0's by a machine only), clicks on two links (reader3's by a link scanner)."""
    with engine.connect() as connection:
        ids = {
            row.email.split("@")[0]: int(row.id)
            for row in connection.execute(sa.select(subscribers.c.id, subscribers.c.email))
        }

    def e(kind: str, reader: str, minute: int, **fields: Any) -> dict[str, Any]:
        return event(
            kind,
            unique(kind),
            email=f"{reader}@example.com",
            timestamp=HOUR + minute * 60,
            mailer_campaign=str(campaign_id),
            mailer_subscriber=str(ids[reader]),
            **fields,
        )

    return [
        *(e("delivered", f"reader{number}", 1) for number in range(4)),
        e("bounce", "reader4", 2, type="blocked", reason="421", bounce_classification="Reputation"),
        e("bounce", "reader5", 2, type="bounce", reason="550", bounce_classification="Invalid"),
        e("open", "reader0", 5, sg_machine_open=True),
        e("open", "reader1", 20),
        e("open", "reader2", 70),
        e("open", "reader3", 75),
        e("click", "reader1", 21, url=HOME),
        e("click", "reader2", 72, url=ARTICLE),
        e("click", "reader2", 73, url=HOME),
        e("click", "reader3", 76, url=ARTICLE, useragent="Mimecast Safe Links"),
    ]


def _log_in(page: Page, server: WebServer) -> None:
    page.goto(server.url("/admin/campaigns/new"))
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()


def test_schedule_send_and_read_its_report(
    chromium: Browser,
    server: WebServer,
    worker: Worker,
    db_project: Project,
    engine: sa.Engine,
    signer: Signer,
) -> None:
    page = new_page(chromium, width=1280, height=900)
    problems = console_problems(page)
    _log_in(page, server)
    page.get_by_label("Issue").select_option("87")
    page.get_by_label("List").select_option("weekly")
    page.get_by_label("At a time", exact=True).check()
    page.get_by_label("Time", exact=True).fill("+2h")
    page.get_by_role("button", name="Send or schedule").click()
    expect(page.locator("#progress-status")).to_have_text("scheduled")
    campaign_id = int(page.url.rsplit("/", 1)[1])

    # Its time comes: the clock moves two hours on, not the wall's.
    due = show_campaign(engine, campaign_id).scheduled_at
    assert due is not None
    settings, renderer = db_project.settings(), db_project.renderer()
    started = start_due(
        engine,
        settings,
        renderer,
        campaign_id,
        owner=None,
        clock=lambda: due + timedelta(seconds=1),
    )
    assert started.outcome == "started", started.message
    page.reload()
    expect(page.locator("#progress-status")).to_have_text("sent", timeout=60_000)
    expect(page.locator("#progress-sent")).to_have_text("6")

    # Before any event, the report says so.
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.locator("#no-events")).to_be_visible()
    expect(page.locator("svg")).to_have_count(0)

    answer = post_signed(server.base_url, signer, _events(engine, campaign_id))
    assert answer.status_code == 200, answer.text
    page.reload()
    expect(page.locator("#figure-delivered")).to_have_text("4")
    expect(page.locator("#row-opened td").nth(1)).to_have_text("100.0\u00a0%")
    expect(page.locator("#row-opened-human td").first).to_have_text("3")
    expect(page.locator("#row-clicked-human td").nth(1)).to_have_text("50.0\u00a0%")
    hours = page.locator("#hours-chart svg")
    expect(hours).to_be_visible()
    expect(hours.locator("rect.bar")).to_have_count(6)
    expect(page.locator("#bounces-chart svg rect.bar")).to_have_count(2)
    links = page.locator("#links tbody tr")
    expect(links).to_have_count(2)
    # Both clicked by two readers twice: by address then, as text (no markup made of it).
    expect(links.first.locator("th")).to_have_text(ARTICLE)
    expect(links.nth(1).locator("th")).to_have_text(HOME)
    page.get_by_text("The same numbers as a table").first.click()
    expect(page.locator("#hours-table tbody tr")).to_have_count(2)
    assert_fits_width(page)
    wide = hours.bounding_box()
    assert wide is not None and wide["width"] > 600

    page.set_viewport_size({"width": 375, "height": 800})
    assert_fits_width(page)
    narrow = hours.bounding_box()
    assert narrow is not None and narrow["width"] <= 375
    expect(page.locator("#links")).to_be_visible()

    page.get_by_role("link", name="Recipients", exact=True).click()
    expect(page.locator("#recipients tbody tr")).to_have_count(6)
    assert_fits_width(page)
    page.get_by_label("Opened or clicked").select_option("clicked_by_person")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#recipients tbody tr")).to_have_count(2)
    expect(page.locator("#recipients")).to_contain_text("reader1@example.com")
    expect(page.locator("#recipients")).to_contain_text("reader2@example.com")
    assert "activity=clicked_by_person" in page.url
    page.get_by_label("Opened or clicked").select_option("")
    page.get_by_label("Mail (events)").select_option("bounced")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#recipients tbody tr")).to_have_count(1)
    expect(page.locator("#recipients")).to_contain_text("reader5@example.com")
    assert_fits_width(page)
    assert problems == []
