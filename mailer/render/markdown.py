"""Markdown body -> HTML fragments and plain text, split into ``##`` sections.

A digest is a run of ``##`` sections, one per news item. A section whose last paragraph is a
single link (``[Read more](https://...)``) gets that link as its "read more" link; templates
show it as a button. Raw HTML in Markdown is escaped, not passed through: email clients are
unforgiving, and the templates own the markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from mailer.render.text import blocks_to_text, inline_to_text

SECTION_HEADING = "h2"


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


_MD = _markdown()
# markdown-it leaves links with unsafe schemes (javascript:, data:...) as literal text; the link
# finder accepts every address so that `mailer check` can name them instead of passing them by.
_LINK_FINDER = _markdown()
_LINK_FINDER.validateLink = lambda url: True  # type: ignore[method-assign]


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    line: int
    """0-based line within the body."""


@dataclass(frozen=True)
class Image:
    src: str
    alt: str
    line: int


@dataclass(frozen=True)
class Section:
    title: str
    title_text: str
    """The title as plain text with the URLs of any links in it, for the text part."""
    title_html: Markup
    html: Markup
    text: str
    read_more: Link | None
    line: int
    """0-based line of the item's ``##`` heading within the body."""


@dataclass(frozen=True)
class Body:
    html: Markup
    text: str
    intro_html: Markup
    intro_text: str
    sections: tuple[Section, ...]
    links: tuple[Link, ...]
    images: tuple[Image, ...]


def _render_html(tokens: list[Token]) -> Markup:
    return Markup(_MD.renderer.render(tokens, _MD.options, {}))


def _lone_link(tokens: list[Token]) -> Link | None:
    """The link if the block tokens end in a paragraph holding only that link."""
    if len(tokens) < 3 or tokens[-3].type != "paragraph_open" or tokens[-3].level != 0:
        return None
    children = [
        child
        for child in tokens[-2].children or []
        if not (child.type == "text" and not child.content.strip())
    ]
    if len(children) < 3 or children[0].type != "link_open" or children[-1].type != "link_close":
        return None
    if any(child.type in ("link_open", "link_close") for child in children[1:-1]):
        return None
    href = str(children[0].attrGet("href") or "")
    label = inline_to_text(children[1:-1], with_urls=False).strip()
    line = tokens[-3].map[0] if tokens[-3].map else 0
    return Link(href=href, label=label or href, line=line)


def _section(heading: list[Token], blocks: list[Token]) -> Section:
    inline = heading[1]
    read_more = _lone_link(blocks)
    if read_more is not None:
        blocks = blocks[:-3]
    return Section(
        title=inline_to_text(inline.children or [], with_urls=False).strip(),
        title_text=inline_to_text(inline.children or []).strip(),
        title_html=Markup(_MD.renderer.renderInline(inline.children or [], _MD.options, {})),  # type: ignore[attr-defined]
        html=_render_html(blocks),
        text=blocks_to_text(blocks),
        read_more=read_more,
        line=heading[0].map[0] if heading[0].map else 0,
    )


def _collect_links(tokens: list[Token]) -> tuple[tuple[Link, ...], tuple[Image, ...]]:
    links: list[Link] = []
    images: list[Image] = []
    for block in tokens:
        if block.type != "inline":
            continue
        line = block.map[0] if block.map else 0
        children = block.children or []
        for index, child in enumerate(children):
            if child.type == "link_open":
                label_tokens = []
                for later in children[index + 1 :]:
                    if later.type == "link_close":
                        break
                    label_tokens.append(later)
                label = inline_to_text(label_tokens, with_urls=False)
                links.append(Link(str(child.attrGet("href") or ""), label, line))
            elif child.type == "image":
                alt = inline_to_text(child.children or [], with_urls=False)
                images.append(Image(str(child.attrGet("src") or ""), alt, line))
    return tuple(links), tuple(images)


def parse_body(source: str) -> Body:
    tokens = _MD.parse(source)
    intro: list[Token] = []
    sections: list[Section] = []
    heading: list[Token] | None = None
    blocks: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and token.tag == SECTION_HEADING and token.level == 0:
            if heading is not None:
                sections.append(_section(heading, blocks))
            heading, blocks = tokens[index : index + 3], []
            index += 3
            continue
        (blocks if heading is not None else intro).append(token)
        index += 1
    if heading is not None:
        sections.append(_section(heading, blocks))
    links, images = _collect_links(_LINK_FINDER.parse(source))
    return Body(
        html=_render_html(tokens),
        text=blocks_to_text(tokens),
        intro_html=_render_html(intro),
        intro_text=blocks_to_text(intro),
        sections=tuple(sections),
        links=links,
        images=images,
    )
