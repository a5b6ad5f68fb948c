"""``next`` URLs: honoured only under base_url. Every URL ``safe_next`` lets through is checked
by the browser that would follow it (Chromium's own URL parser), for hostile inputs built from
the pieces open-redirect attacks are made of."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page

from mailer.web.redirects import safe_next

BASES = ["https://base.example", "https://base.example/news", "http://127.0.0.1:8080"]
HOSTILE = [
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "////evil.example",
    "https://evil.example",
    "https://base.example.evil.example/",
    "https://base.example@evil.example/",
    "https://base.example:443@evil.example/",
    "https://evil.example#https://base.example/",
    "https://evil.example/https://base.example/",
    "http://base.example/",  # another scheme is another origin
    "https://base.example:8443/",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https:\\\\evil.example",
    "https:evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\r\n//evil.example",
    "/ /evil.example",
    "/%252F%252Fevil.example",
    "/news/../admin",
    "/news/%2e%2e/admin",
    "/news/%2E%2E%2Fadmin",
    "/news/%252e%252e/admin",
    "/news/./x",
    "https://evil。example",
    "https://\uff45\uff56\uff49\uff4c.example",
    "/\u202eelpmaxe.live//",
    "https://base.example%2eevil.example/",
    "https://base.example%40evil.example/",
    "",
    "/" + "a" * 2001,
]


@pytest.mark.parametrize("candidate", HOSTILE)
@pytest.mark.parametrize("base", BASES)
def test_hostile_next_urls_are_refused(base: str, candidate: str) -> None:
    assert safe_next(base, candidate) is None


@pytest.mark.parametrize(
    ("base", "candidate", "expected"),
    [
        ("https://base.example", "/preferences/abc?saved=1", "https://base.example/preferences/abc?saved=1"),
        ("https://base.example", "https://base.example/archive/87", "https://base.example/archive/87"),
        ("https://base.example", "https://BASE.example/x#top", "https://base.example/x#top"),
        ("https://base.example/news", "/news/archive", "https://base.example/news/archive"),
        ("https://base.example/news", "archive", None),  # relative: to which page?
        ("https://base.example/news", "/news", "https://base.example/news"),
        ("http://127.0.0.1:8080", "/x/y/", "http://127.0.0.1:8080/x/y/"),
        ("https://base.example", "/a%20b", None),  # a space, however written, is refused
        ("https://base.example/news", "/newsletter", None),  # beside the prefix, not under it
        ("https://base.example/news", "/other", None),
    ],
)  # fmt: skip
def test_pages_under_base_url_are_honoured(base: str, candidate: str, expected: str | None) -> None:
    assert safe_next(base, candidate) == expected


@pytest.fixture(scope="module")
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    context.route("**/*", lambda route: route.abort())
    opened = context.new_page()
    yield opened
    context.close()


PIECES = st.sampled_from(
    [
        "/", "//", "\\", "%2f", "%2F", "%5c", "%2e", "%2e%2e", ".", "..", "%25", "%", "@", ":",
        "?", "#", "\t", "\n", " ", "%09", "%0a", "%00", "\x00", "evil.example", "base.example",
        "base.example.evil.example", "https:", "http:", "javascript:", "data:", "news",
        "/news", "https://base.example", "https://base.example/news", "a", "443", "\u3002",
        "\uff45", "\u202e", "\u00a0", "[::1]", "127.0.0.1", "0x7f.1", "&", "=",
    ]
)  # fmt: skip
# Printable pieces only, so that more candidates get through and reach the browser's check.
PRINTABLE = st.sampled_from(
    ["/", "a", "news", "/news", "%2f", "%2e", ".", "..", "?", "#", "=", "&", ";", ":", "@",
     "%25", "%41", "evil.example", "//", "~", "!", "$", "'", "(", "*", "+", ",", "[", "]"]
)  # fmt: skip
CANDIDATES = st.one_of(
    st.lists(PRINTABLE, min_size=1, max_size=8).map(lambda pieces: "/" + "".join(pieces)),
    st.lists(PIECES, min_size=1, max_size=8).map("".join),
    st.lists(PIECES, min_size=1, max_size=8).map(lambda pieces: "/" + "".join(pieces)),
    st.lists(PIECES, max_size=6).map(lambda pieces: "https://base.example/" + "".join(pieces)),
    st.text(max_size=40),
)


@settings(
    max_examples=int(os.environ.get("NEXT_URL_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(base=st.sampled_from(BASES), candidate=CANDIDATES)
@example(base="https://base.example/news", candidate="/news/archive?x=//evil.example")
def test_whatever_is_let_through_the_browser_reads_as_under_base_url(
    page: Page, base: str, candidate: str
) -> None:
    honoured = safe_next(base, candidate)
    if honoured is None:
        return
    seen = page.evaluate(
        """([url, base, candidate]) => {
            const parsed = new URL(url);
            const raw = new URL(base).pathname.replace(/\\/$/, "");
            const direct = new URL(candidate, base.replace(/\\/?$/, "/") + "some/page");
            const place = (u) => u.origin + u.pathname + u.search + u.hash;
            return {origin: parsed.origin, path: parsed.pathname, expected: new URL(base).origin,
                    prefix: raw, place: place(parsed), direct: place(direct)};
        }""",
        [honoured, base, candidate],
    )
    assert seen["origin"] == seen["expected"], (candidate, honoured, seen)
    prefix = seen["prefix"]
    assert seen["path"] == prefix or seen["path"].startswith(prefix + "/"), (candidate, seen)
    assert "/../" not in seen["path"] + "/" and "//" not in seen["path"]
    # The browser, given the candidate itself on a page under base_url, goes to the same place.
    assert seen["direct"] == seen["place"], (candidate, seen)
