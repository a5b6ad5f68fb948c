"""Imports in a real headless Chromium at a phone's width (375 px): log in, upload a CSV with
a few bad rows, say what its columns hold, watch the progress (polled by htmx) reach done,
download the rejected rows and read their lines and reasons; nothing the content security
policy refuses, no script error, no sideways scrolling. With script off the same steps work,
the progress page reloaded by hand."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.roles import Role
from mailer.audience.lists import create_list
from mailer.db.engine import create_db_engine
from tests.admin_helpers import OWNER, PASSWORD, add_account
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.web_server import WebServer, new_page

pytestmark = pytest.mark.browser

PEOPLE = (
    b"Courriel,Nom,Ville\r\n"
    b"ann@example.com,Ann,Berlin\r\n"
    b"not an address,Bob,Paris\r\n"
    b"cy@example.com,Cy,Leiden\r\n"
    b",Nobody,Nowhere\r\n"
    b"dee@example.com,Dee,Oslo\r\n"
)


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    engine = create_db_engine(db_project.settings().database.url)
    create_list(engine, "weekly")
    engine.dispose()
    yield web_server


def _import_people(page: Page, server: WebServer) -> None:
    """Log in, upload PEOPLE and choose its columns (Courriel: email, Nom: name, Ville: the
    city attribute) into weekly."""
    page.goto(server.url("/admin/imports"))
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    assert_fits_width(page)
    page.get_by_role("link", name="Import a CSV file").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": PEOPLE}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Choose the columns")).to_be_visible()
    expect(page.get_by_role("region", name="First rows")).to_contain_text("not an address")
    assert_fits_width(page)
    page.locator("#target-0").select_option("email")
    page.locator("#target-1").select_option("name")
    page.locator("#target-2").select_option("attribute")
    page.locator("#key-2").fill("city")
    page.get_by_label("Into the list").select_option("weekly")
    page.get_by_role("button", name="Start the import").click()


def _check_rejects(path: Path) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [row[:3] for row in rows] == [
        ["line", "email", "outcome"],
        ["3", "not an address", "rejected"],
        ["5", "", "rejected"],
    ]
    assert "invalid email address" in rows[1][3] and rows[2][3] == "no email address"


def test_upload_map_columns_watch_progress_and_download_the_rejects(
    chromium: Browser, server: WebServer
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    _import_people(page, server)
    expect(page.get_by_role("heading", name="Import 1")).to_be_visible()
    status = page.locator("[data-status]")
    expect(status).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator('[data-count="added"]')).to_have_text("3")
    expect(page.locator('[data-count="rejected"]')).to_have_text("2")
    assert_fits_width(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rows not imported").click()
    _check_rejects(Path(download.value.path()))
    page.get_by_role("link", name="All imports").click()
    expect(page.locator("#import-1")).to_contain_text("done")
    assert_fits_width(page)
    assert problems == []


def test_the_import_works_with_script_off(chromium: Browser, server: WebServer) -> None:
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False, accept_downloads=True
    )
    page = context.new_page()
    try:
        _import_people(page, server)
        expect(page.get_by_role("heading", name="Import 1")).to_be_visible()
        for _ in range(100):  # reloaded by hand, as a person without script would
            if page.locator("[data-status]").get_attribute("data-status") == "done":
                break
            page.reload()
        expect(page.locator("[data-status]")).to_have_attribute("data-status", "done")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the rows not imported").click()
        _check_rejects(Path(download.value.path()))
    finally:
        context.close()
