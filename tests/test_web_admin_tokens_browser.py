"""API tokens in a real headless Chromium at a phone's width (375 px): an owner creates a
token and sees its secret once, ready to copy; the list then shows the token without it;
revoking asks first and the list then shows it revoked. No page scrolls sideways, nothing is
refused by the content security policy, no script error; the same works with script off."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from mailer.accounts.roles import Role
from mailer.accounts.tokens import list_tokens, token_principal
from mailer.app import Mailer
from tests.admin_helpers import OWNER, PASSWORD, add_account, opened_mailer
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.web_server import WebServer, new_page

pytestmark = pytest.mark.browser
SECRET = re.compile(r"mailer_[A-Za-z0-9_-]{43}")


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def _fits(page: Page) -> None:
    """The page fits the window once it is loaded: measured earlier, a stylesheet still on
    its way (the one that stacks tables on a phone) would be left out."""
    page.wait_for_load_state("load")
    assert_fits_width(page)


def _log_in(page: Page, server: WebServer) -> None:
    page.goto(server.url("/admin/tokens"))
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()


def _create_and_revoke(page: Page, server: WebServer, mailer: Mailer) -> None:
    _log_in(page, server)
    expect(page.get_by_text("No token yet.")).to_be_visible()
    _fits(page)

    form = page.locator("form", has=page.get_by_role("button", name="Create token"))
    form.get_by_label("Name").fill("deploy-bot")
    form.get_by_label("Role").select_option("admin")
    form.get_by_label("Can send campaigns (owners always can, viewers never)").check()
    form.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token deploy-bot is created")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(re.compile("Copy the token now"))
    secret_box = page.get_by_label("Token", exact=True)
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert SECRET.fullmatch(secret) and secret not in page.url
    principal = token_principal(mailer, secret)
    assert principal is not None and principal.name == "deploy-bot"
    _fits(page)

    page.get_by_role("link", name="Back to the tokens").click()
    row = page.locator("tr", has_text="deploy-bot")
    expect(row).to_contain_text("admin")
    expect(row).to_contain_text(OWNER)
    assert secret not in page.content()
    _fits(page)

    row.get_by_role("link", name="Revoke deploy-bot").click()
    expect(page.get_by_role("heading", name="Revoke token deploy-bot?")).to_be_visible()
    _fits(page)
    page.get_by_role("link", name="Keep it").click()
    assert list_tokens(mailer)[0].revoked_at is None
    page.get_by_role("link", name="Revoke deploy-bot").click()
    page.get_by_role("button", name="Revoke token deploy-bot").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("Token deploy-bot is revoked"))
    expect(page.locator("tr", has_text="deploy-bot").get_by_role("link")).to_have_count(0)
    _fits(page)
    assert token_principal(mailer, secret) is None


def test_create_a_token_copy_it_and_revoke_it_at_375_px(
    chromium: Browser, server: WebServer, mailer: Mailer
) -> None:
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    _create_and_revoke(page, server, mailer)
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_text("token.revoke")).to_be_visible()
    assert problems == []


def test_the_tokens_pages_work_with_script_off(
    chromium: Browser, server: WebServer, mailer: Mailer
) -> None:
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    try:
        _create_and_revoke(context.new_page(), server, mailer)
    finally:
        context.close()
