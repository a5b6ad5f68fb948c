"""Rendered mail in a real headless Chromium (Debian's), driven by Playwright (the session's
browser from tests/web_server.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route

from mailer.content import load_issue
from mailer.render.tokens import Recipient
from tests.conftest import Project, sample_issue_paths

READER = Recipient(
    "a.reader.with.a.long.address@example.com",
    "Ada Lin",
    "https://newsletter.example.com/unsubscribe/aGVsbG8.c2lnbmF0dXJl",
)

pytestmark = pytest.mark.browser


def _offline(route: Route) -> None:
    # Tests reach nothing beyond loopback: remote images simply fail to load.
    route.abort()


@pytest.mark.parametrize("sample", [p.name for p in sample_issue_paths()])
@pytest.mark.parametrize("width", [375, 320])
def test_no_horizontal_scroll_on_a_phone(
    chromium: Browser, project: Project, sample: str, width: int
) -> None:
    issue = load_issue(project.issues / sample, project.templates)
    html = project.renderer().render(issue).personalize(READER).html
    page = chromium.new_page(viewport={"width": width, "height": 800})
    page.route("**/*", _offline)
    page.set_content(html, wait_until="load")
    scroll_width = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    mode = page.evaluate("document.compatMode")
    page.screenshot(path=str(project.root / f"{sample}-{width}.png"), full_page=True)
    page.close()
    assert mode == "CSS1Compat"  # standards mode: the doctype survived
    assert scroll_width <= width


def test_desktop_layout_is_centred_and_600px_wide(chromium: Browser, project: Project) -> None:
    issue = load_issue(sample_issue_paths()[0], project.templates)
    html = project.renderer().render(issue).personalize(READER).html
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page.route("**/*", _offline)
    page.set_content(html, wait_until="load")
    box = page.locator("text=Three postal services agree").bounding_box()
    page.close()
    assert box is not None
    assert 300 < box["x"] < 600  # inside a centred 600 px column, not stretched to 1200
