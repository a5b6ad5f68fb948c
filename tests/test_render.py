"""The render pipeline: Markdown -> Jinja -> MJML -> premailer -> HTML, plus the text part."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from mailer.content import load_issue
from mailer.render.tokens import Recipient
from tests.conftest import Project, sample_issue_paths

READER = Recipient(
    email="reader@example.com",
    name="Ada Lin",
    unsubscribe_url="https://news.example.com/unsubscribe/abc.def",
    preferences_url="https://news.example.com/preferences/abc.def",
)


def render(project: Project, name: str) -> Any:
    settings = project.settings()
    issue = load_issue(project.issues / name, settings.paths.templates)
    return project.renderer().render(issue)


@pytest.mark.parametrize("sample", [p.name for p in sample_issue_paths()])
def test_every_sample_renders_to_html_and_text(project: Project, sample: str) -> None:
    rendered = render(project, sample)
    personal = rendered.personalize(READER)
    document = lxml_html.document_fromstring(personal.html)
    assert rendered.issue.meta.title in document.text_content()
    assert rendered.issue.meta.title in personal.text
    assert "@@" not in personal.html and "@@" not in personal.text
    assert READER.unsubscribe_url in personal.html and READER.unsubscribe_url in personal.text


def test_there_is_a_digest_and_a_feature_sample(project: Project) -> None:
    templates = {load_issue(p).meta.template for p in sample_issue_paths()}
    assert {"digest", "feature"} <= templates


def test_media_queries_keep_important(project: Project) -> None:
    html = render(project, "0087-postal-pact-and-ai-talent.md").html
    media_rules = re.findall(r"@media[^{]*\{(.*?)\}\s*\}", html, re.S)
    assert media_rules, "MJML's responsive @media rules are missing"
    assert all("!important" in rule for rule in media_rules)
    # MJML's column widths and the layout's own mobile rules both survive.
    assert any("mj-column-per-100" in rule and "!important" in rule for rule in media_rules)
    assert any(".content h1" in rule and "!important" in rule for rule in media_rules)


def test_doctype_survives_inlining(project: Project) -> None:
    html = render(project, "0087-postal-pact-and-ai-talent.md").html
    assert html.lstrip().lower().startswith("<!doctype html>")


def test_image_pixel_widths_survive(project: Project) -> None:
    html = render(project, "0088-ai-startups-draw-talent.md").html
    hero = lxml_html.document_fromstring(html).xpath("//img[contains(@src, '0088-hero')]")[0]
    assert hero.get("width") == "600"


def test_css_is_inlined_into_elements(project: Project) -> None:
    html = render(project, "0087-postal-pact-and-ai-talent.md").personalize(READER).html
    link = lxml_html.document_fromstring(html).xpath("//a[contains(@href, 'postal-mou')]")[0]
    assert "color" in (link.get("style") or "")


def test_rendering_attempts_no_network_access(project: Project) -> None:
    # A layout that pulls a web font and a remote stylesheet: premailer would fetch it by default.
    base = project.templates / "_base.mjml.j2"
    base.write_text(
        base.read_text(encoding="utf-8")
        .replace(
            "<mj-head>",
            '<mj-head>\n<mj-font name="Lato" href="https://fonts.example.net/lato.css" />',
        )
        .replace('<mj-all font-family="', '<mj-all font-family="Lato, '),
        encoding="utf-8",
    )
    attempts: list[tuple[Any, ...]] = []

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.getaddrinfo") and watching:
            attempts.append(args)

    watching = True
    sys.addaudithook(audit)
    try:
        rendered = render(project, "0087-postal-pact-and-ai-talent.md")
    finally:
        watching = False
    assert "fonts.example.net" in rendered.html
    assert attempts == []


def test_plain_text_part_carries_every_link_of_the_html_part(project: Project) -> None:
    for path in sample_issue_paths():
        personal = render(project, path.name).personalize(READER)
        document = lxml_html.document_fromstring(personal.html)
        hrefs = {a.get("href") for a in document.iter("a") if a.get("href")}
        assert len(hrefs) >= 4
        missing = [href for href in hrefs if href not in personal.text]
        assert missing == [], f"{path.name}: links missing from the text part: {missing}"


def test_text_part_is_built_from_markdown_not_html(project: Project) -> None:
    text = render(project, "0088-ai-startups-draw-talent.md").text
    assert "<" not in text.replace("<http", "")
    assert "- ByteDance, TikTok's parent company" in text
    assert "> The story of the next few years" in text
    assert all(len(line) <= 72 or "http" in line for line in text.splitlines())


def test_digest_items_get_read_more_buttons(project: Project) -> None:
    rendered = render(project, "0087-postal-pact-and-ai-talent.md")
    document = lxml_html.document_fromstring(rendered.html)
    buttons = [a for a in document.iter("a") if "Read more" in (a.text_content() or "")]
    assert len(buttons) == 5
    assert "Read more: https://www.example.com/news/2018/11/postal-mou" in rendered.text


def test_body_can_use_merge_fields_and_they_are_escaped(project: Project) -> None:
    path = project.issues / "0087-postal-pact-and-ai-talent.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "Good morning.",
            "Good morning, {{ subscriber.first_name }} from {{ subscriber.attributes.city }}.",
        ),
        encoding="utf-8",
    )
    rendered = render(project, path.name)
    reader = Recipient(
        email="x@example.com",
        name="<script>alert(1)</script> Lin",
        attributes={"city": "Hangzhou & Suzhou"},
    )
    personal = rendered.personalize(reader)
    assert "<script>" not in personal.html
    assert (
        "Good morning, &lt;script&gt;alert(1)&lt;/script&gt; from Hangzhou &amp; Suzhou."
        in personal.html
    )
    assert "Good morning, <script>alert(1)</script> from Hangzhou & Suzhou." in personal.text


def test_editors_can_add_a_layout_by_dropping_a_file(project: Project) -> None:
    (project.templates / "memo.mjml.j2").write_text(
        '{% extends "_base.mjml.j2" %}{% block content %}<mj-section><mj-column>'
        '<mj-text css-class="content"><h1>MEMO {{ issue.title }}</h1>{{ body.html }}</mj-text>'
        "</mj-column></mj-section>{% endblock %}",
        encoding="utf-8",
    )
    source = (project.issues / "0088-ai-startups-draw-talent.md").read_text(encoding="utf-8")
    project.write_issue(
        "0090-memo.md",
        source.replace("number: 88", "number: 90").replace("template: feature", "template: memo"),
    )
    rendered = render(project, "0090-memo.md")
    assert "MEMO China" in rendered.html
    assert "Zhou Chang" in rendered.text  # the shared text layout is the fallback


def test_template_error_names_file_and_line(project: Project) -> None:
    from mailer.errors import LocatedError

    footer = project.templates / "partials" / "footer.mjml.j2"
    lines = footer.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + " {{ newsletter.no_such_setting }}"
    footer.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(LocatedError) as caught:
        render(project, "0087-postal-pact-and-ai-talent.md")
    assert caught.value.path == Path(footer)
    assert caught.value.line == 4


def test_feature_text_part_sets_byline_and_source_apart_from_the_article(project: Project) -> None:
    text = render(project, "0088-ai-startups-draw-talent.md").personalize(READER).text
    source_line = next(line for line in text.splitlines() if line.startswith("Source: "))
    assert "(https://" in source_line
    after = text.split(source_line + "\n", 1)[1]
    assert after.startswith("\n") and not after.startswith("\n\n")
