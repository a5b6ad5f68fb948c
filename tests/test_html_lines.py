"""The HTML part's long lines are broken only where a line break shows nothing new: the
sample issues render exactly as before in Chromium, in light and in dark mode readable."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser

from mailer.content import load_issue
from mailer.render.html_lines import HTML_LINE_WIDTH, wrap_html
from mailer.render.inline import inline_css
from mailer.render.mjml_compile import compile_mjml
from mailer.render.tokens import Recipient
from tests.conftest import Project, sample_issue_paths
from tests.web_server import new_page

READER = Recipient("ada@example.com", "Ada Lin", "https://n.example.com/u/t.s")
SAMPLES = [path.name for path in sample_issue_paths()]


def unwrapped_and_wrapped(project: Project, sample: str) -> tuple[str, str]:
    issue = load_issue(project.issues / sample)
    rendered = project.renderer().render(issue)
    return inline_css(compile_mjml(rendered.mjml, issue.meta.template)), rendered.html


def assert_only_spaces_became_newlines(before: str, after: str) -> None:
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert all(before[i] in " \t" and after[i] == "\n" for i in changed), [
        before[i - 20 : i + 20] for i in changed if after[i] != "\n"
    ]


def text(element: lxml.html.HtmlElement) -> str:
    return "".join(map(str, element.itertext()))


def shape(html: str) -> list[tuple[str, dict[str, str], str, str]]:
    """Each element's tag, attributes, and text before and after its children with runs of
    whitespace read as one space (as a browser lays out text outside ``pre``)."""
    document = lxml.html.document_fromstring(html)
    return [
        (
            str(element.tag),
            {str(name): str(value) for name, value in element.attrib.items()},
            " ".join((element.text or "").split()),
            " ".join((element.tail or "").split()),
        )
        for element in document.iter()
    ]


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_lines_are_short_and_only_whitespace_changed(project: Project, sample: str) -> None:
    before, after = unwrapped_and_wrapped(project, sample)
    assert max(len(line) for line in before.split("\n")) > 998  # what there was to fix
    lines = after.split("\n")
    assert max(len(line) for line in lines) < 400
    assert sum(len(line) > HTML_LINE_WIDTH for line in lines) < len(lines) // 10
    assert_only_spaces_became_newlines(before, after)
    assert shape(after) == shape(before)
    if "Read more →" in before:  # a short text, such as a button's label, is kept whole
        assert "Read more →" in after


def test_what_a_break_would_change_is_kept_whole() -> None:
    value = "a " * 200
    preformatted = "<pre>" + "x " * 200 + "</pre>"
    styled = '<div style="white-space: pre-wrap">' + "y " * 200 + "<b>z z</b> w w</div>"
    marker = "<!--[if mso | IE]><table role=presentation><tr><td><![endif]-->"
    html = (
        f'<p title="{value}">'
        + "word " * 100
        + "</p>"
        + preformatted
        + styled
        + marker
        + "<script>var s = ' a  b ';</script>"
    )
    wrapped = wrap_html(html, width=80)
    assert_only_spaces_became_newlines(html, wrapped)
    assert f'title="{value}"' in wrapped
    assert preformatted in wrapped
    assert "y " * 200 + "<b>z z</b> w w</div>" in wrapped  # tags may break, the text may not
    assert "<!--[if mso | IE]><table" in wrapped and "<td><![endif]-->" in wrapped
    assert "<script>var s = ' a  b ';</script>" in wrapped
    paragraph = wrapped[wrapped.index("word") : wrapped.index("</p>")]
    assert all(len(line) <= 80 for line in paragraph.split("\n"))


def test_short_lines_are_left_as_they_are() -> None:
    html = "<p>one two</p>\n<p>three</p>"
    assert wrap_html(html, width=40) is html


_WORDS = st.text(alphabet="ab é<>&\"'", min_size=0, max_size=30).map(
    lambda text: text.replace("<", "&lt;").replace(">", "&gt;").replace("&", "&amp;")
)
_ATTRIBUTES = st.lists(
    st.tuples(st.sampled_from(["title", "style", "class", "href"]), _WORDS), max_size=3
).map(lambda pairs: "".join(f' {name}="{value.replace(chr(34), "")}"' for name, value in pairs))
_TAGS = st.sampled_from(["p", "div", "span", "b", "td", "pre", "textarea"])


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_TAGS, _ATTRIBUTES, st.lists(children, max_size=4)).map(
        lambda parts: f"<{parts[0]}{parts[1]}>{''.join(parts[2])}</{parts[0]}>"
    )


_FRAGMENTS = st.recursive(
    _WORDS | st.just("<!--[if mso | IE]><table><tr><td><![endif]-->") | st.just("<br />"),
    _element,
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_FRAGMENTS, min_size=1, max_size=6), st.integers(min_value=10, max_value=120))
def test_any_document_keeps_its_shape_and_its_preformatted_text(
    fragments: list[str], width: int
) -> None:
    html = "<!doctype html><html><body>" + "".join(fragments) + "</body></html>"
    wrapped = wrap_html(html, width=width)
    assert_only_spaces_became_newlines(html, wrapped)
    assert shape(wrapped) == shape(html)
    for name in ("pre", "textarea"):
        before = lxml.html.document_fromstring(html).iter(name)
        after = lxml.html.document_fromstring(wrapped).iter(name)
        assert [text(e) for e in before] == [text(e) for e in after]


def _screenshot(browser: Browser, html: str, path: Path, scheme: str) -> bytes:
    page = new_page(browser, width=700, height=900)
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.set_content(html, wait_until="load")
    shot = page.screenshot(path=str(path), full_page=True)
    page.context.close()
    return shot


@pytest.mark.browser
@pytest.mark.parametrize("sample", SAMPLES)
def test_wrapped_html_looks_the_same_in_chromium(
    chromium: Browser, project: Project, sample: str
) -> None:
    before, after = unwrapped_and_wrapped(project, sample)
    for scheme in ("light", "dark"):
        shots = [
            _screenshot(chromium, html, project.root / f"{name}-{scheme}.png", scheme)
            for name, html in (("before", before), ("after", after))
        ]
        assert shots[0] == shots[1], f"{sample} looks different wrapped ({scheme})"


_CONTRAST = """() => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const color = getComputedStyle(e).backgroundColor;
      if (color && !/rgba\\(.*, 0\\)$/.test(color) && color !== 'transparent') return color;
    }
    return 'rgb(255, 255, 255)';
  };
  return [...document.querySelectorAll('.content h1, .content h2, .content p, .footer div')]
    .map((e) => {
      const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(background(e)))];
      return [e.textContent.trim().slice(0, 40), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
              lum(rgb(background(e)))];
    });
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_stays_readable_in_light_and_dark_mode(
    chromium: Browser, project: Project, scheme: str
) -> None:
    issue = load_issue(project.issues / SAMPLES[0])
    html = project.renderer().render(issue).personalize(READER).html
    page = new_page(chromium, width=700, height=900)
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.set_content(html, wait_until="load")
    measured = page.evaluate(_CONTRAST)
    page.context.close()
    assert len(measured) > 5
    for text, ratio, background in measured:
        # WCAG's 3:1 at least (the small grey line above the masthead is 4:1 in light mode).
        assert ratio >= 3, f"{scheme}: {text!r} has a contrast of {ratio:.2f}"
        if scheme == "dark":
            assert background < 0.1, f"{text!r} sits on a light background in dark mode"
    assert re.search(r"prefers-color-scheme:\s*dark", html)
