"""The pages in a real headless Chromium: one readable column on a 375 px phone and on a
desktop, the stylesheet loaded under the CSP (no violations), a visible focus, escaped values
on every page, and templates overridable like the email ones."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, ConsoleMessage, Page

from tests.web_server import WebServer, new_page

HOSTILE_NAME = "<img src=x onerror=alert(1)> & \"Weekly\" <script>alert('name')</script>"
LONG_PATH = "/" + "a-very-long-word-with-no-breaks" * 12 + "/<b>bold</b>"


def _open(browser: Browser, url: str, width: int) -> tuple[Page, list[str]]:
    """The page at ``url``, with what the console reported (CSP violations land there) and a
    failure on any dialog (a script that ran)."""
    page = new_page(browser, width=width, height=800)
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", console)
    page.on("dialog", lambda dialog: problems.append(f"a script ran: {dialog.message}"))
    page.goto(url, wait_until="load")
    return page, problems


def _scroll_width(page: Page) -> int:
    width: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    return width


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/", LONG_PATH])
@pytest.mark.parametrize("width", [375, 320])
def test_pages_fit_a_phone_with_the_stylesheet_and_no_csp_violation(
    chromium: Browser, shared_web_server: WebServer, path: str, width: int
) -> None:
    page, problems = _open(chromium, shared_web_server.url(quote(path)), width)
    assert _scroll_width(page) <= width
    assert page.evaluate("document.compatMode") == "CSS1Compat"
    # The stylesheet applied: the system font stack and the column's padding come from it.
    padding = page.evaluate("getComputedStyle(document.querySelector('main')).paddingLeft")
    assert padding == "16px"
    assert page.locator("main h1").count() == 1
    assert page.get_attribute("html", "lang") == "en"
    page.context.close()
    # (The 404 page's own status is reported there too; a blocked stylesheet would be.)
    assert not [text for text in problems if "Content Security Policy" in text], problems


@pytest.mark.browser
def test_on_a_desktop_the_text_is_one_centred_readable_column(
    chromium: Browser, shared_web_server: WebServer
) -> None:
    page, _ = _open(chromium, shared_web_server.url("/"), 1280)
    box = page.locator("main").bounding_box()
    page.context.close()
    assert box is not None
    assert box["width"] <= 42 * 16  # about 70 characters a line
    assert abs(box["x"] - (1280 - box["width"]) / 2) <= 1


@pytest.mark.browser
def test_the_keyboard_reaches_a_skip_link_with_a_visible_focus(
    chromium: Browser, shared_web_server: WebServer
) -> None:
    page, _ = _open(chromium, shared_web_server.url("/"), 375)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            const box = element.getBoundingClientRect();
            return {text: element.textContent, outline: style.outlineStyle,
                    width: style.outlineWidth, top: box.top};
        }"""
    )
    assert focused["text"] == "Skip to the content"
    assert focused["outline"] == "solid" and focused["width"] == "3px"
    assert focused["top"] >= 0  # moved into view when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


@pytest.mark.browser
def test_a_hostile_path_on_the_404_page_is_shown_as_text(
    chromium: Browser, shared_web_server: WebServer
) -> None:
    hostile = "/<img src=x onerror=alert(1)>/\"'><script>alert(2)</script>"
    page, problems = _open(chromium, shared_web_server.url(hostile), 375)
    assert page.locator("h1").inner_text() == "Page not found"
    shown = page.locator("code.path").inner_text()
    assert "<img src=x onerror=alert(1)>" in shown and "<script>alert(2)</script>" in shown
    assert page.locator("main img, main script").count() == 0
    page.context.close()
    assert not [problem for problem in problems if "script ran" in problem]


# "." and ".." are dot segments, which the client resolves away before sending.
PATH_TEXT = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40
).filter(lambda text: text.strip(".") != "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=PATH_TEXT)
def test_any_path_on_the_404_page_is_escaped(shared_web_server: WebServer, text: str) -> None:
    answer = httpx.get(shared_web_server.url("/missing/" + quote(text, safe="")))
    assert answer.status_code == 404
    shown = re.search(r'<code class="path">(.*?)</code>', answer.text, re.DOTALL)
    assert shown is not None
    assert not set("<>\"'") & set(shown.group(1))  # each written as an entity
    assert html.unescape(shown.group(1)).startswith("/missing/")


@pytest.mark.browser
def test_a_hostile_newsletter_name_is_escaped_on_every_page(
    chromium: Browser, start_web_server: Callable[..., WebServer]
) -> None:
    server = start_web_server({"MAILER_NEWSLETTER_NAME": HOSTILE_NAME})
    for path in ("/", "/no-such-page"):
        page, problems = _open(chromium, server.url(path), 375)
        assert page.locator(".site-name").inner_text() == HOSTILE_NAME
        assert HOSTILE_NAME in page.title()
        assert page.locator("img, script").count() == 0
        page.context.close()
        assert not [problem for problem in problems if "script ran" in problem]


def test_a_folder_of_ones_own_replaces_the_templates(
    start_web_server: Callable[..., WebServer], tmp_path: Path
) -> None:
    own = tmp_path / "our-pages"
    (own / "static").mkdir(parents=True)
    (own / "_base.html").write_text(
        '<!doctype html><html lang="de"><head><title>{% block title %}{% endblock %}</title>'
        '<link rel="stylesheet" href="{{ static_url(\'ours.css\') }}"></head>'
        "<body><main>{% block content %}{% endblock %}</main></body></html>",
        encoding="utf-8",
    )
    (own / "home.html").write_text(
        '{% extends "_base.html" %}{% block title %}Start{% endblock %}'
        "{% block content %}<h1>Willkommen bei {{ newsletter.name }}</h1>{% endblock %}",
        encoding="utf-8",
    )
    (own / "static" / "ours.css").write_text("main { color: #111; }", encoding="utf-8")
    server = start_web_server({"MAILER_PATHS_WEB_TEMPLATES": str(own)})
    home = httpx.get(server.url("/"))
    assert "<h1>Willkommen bei Tech in China Weekly</h1>" in home.text
    stylesheet = re.search(r'href="([^"]+)"', home.text)
    assert stylesheet is not None and stylesheet.group(1).startswith("/static/ours.css?v=")
    assert httpx.get(server.url(stylesheet.group(1))).text == "main { color: #111; }"
    # The folder has no errors.html: errors are still answered, in plain text.
    missing = httpx.get(server.url("/no-such-page"))
    assert missing.status_code == 404 and missing.text.startswith("Page not found")


def test_under_a_base_url_with_a_path_links_keep_the_path(
    start_web_server: Callable[..., WebServer],
) -> None:
    # The proxy serves https://example.com/news/ and passes requests on without /news.
    server = start_web_server({"MAILER_NEWSLETTER_BASE_URL": "https://example.com/news"})
    home = httpx.get(server.url("/"))
    assert 'href="/news/static/site.css?v=' in home.text
    assert '<a class="site-name" href="/news/">' in home.text
    missing = httpx.get(server.url("/gone"))
    assert "/news/gone" in missing.text
