"""Plain text from Markdown tokens (not scraped from HTML): what a text-only reader sees.

Links keep their URL beside their words, ``words (https://...)``, so every link of the HTML
part is in the text part too. Paragraphs wrap at 72 columns but a URL is never broken.
Emphasis loses its marks but strikethrough keeps its tildes: ``~~Delayed~~ On time`` read as
"Delayed On time" would say the opposite of what the HTML part shows.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from mailer.render.tokens import MARKER_PATTERN

WIDTH = 72
_ONE_CHARACTER = "\ue000"
_ONE_CHARACTER_PATTERN = re.compile(_ONE_CHARACTER)
MARKERS_ONLY = re.compile(f"(?:{MARKER_PATTERN.pattern}|[ \t])+")
HEADING_UNDERLINES = {"h1": "=", "h2": "-"}


def inline_to_text(children: Sequence[Token], *, with_urls: bool = True) -> str:
    out: list[str] = []
    link_stack: list[tuple[str, int]] = []
    quiet_breaks = _breaks_beside_marker_lines(children)
    for index, child in enumerate(children):
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind == "softbreak":
            # A line break beside a marker ({% if subscriber.X %} on a line of its own) is
            # the template's layout, not a space in the text.
            out.append("" if index in quiet_breaks else " ")
        elif kind in ("s_open", "s_close"):
            out.append(child.markup)
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            link_stack.append((str(child.attrGet("href") or ""), len(out)))
        elif kind == "link_close" and link_stack:
            href, start = link_stack.pop()
            words = "".join(out[start:]).strip()
            if with_urls and href and href != words and f"mailto:{words}" != href:
                out.append(f" ({href})")
        elif kind == "image":
            alt = inline_to_text(child.children or [], with_urls=False)
            if alt:
                out.append(f"[{alt}]")
    return "".join(out)


def _breaks_beside_marker_lines(children: Sequence[Token]) -> set[int]:
    """The line breaks (by index) before or after a line of nothing but markers: such a line
    ({% if subscriber.X %} on a line of its own) is the template's layout, not text."""
    lines: list[tuple[int, int, str]] = []  # (first index, softbreak index or -1, its text)
    start, text = 0, ""
    for index, child in enumerate(children):
        if child.type == "softbreak":
            lines.append((start, index, text))
            start, text = index + 1, ""
        else:
            text += child.content if child.type == "text" else "\0"
    lines.append((start, -1, text))
    quiet: set[int] = set()
    for number, (_, after, text) in enumerate(lines):
        if MARKERS_ONLY.fullmatch(text):
            before = lines[number - 1][1] if number else -1
            quiet |= {index for index in (before, after) if index >= 0}
    return quiet


def _wrap(text: str, first: str, rest: str) -> str:
    # The markers of a value tested per reader take no room in anyone's copy: each is one
    # private-use character while the lines are measured.
    markers = MARKER_PATTERN.findall(text)
    if markers:
        shown = iter(markers)
        wrapped = _wrap_lines(MARKER_PATTERN.sub(_ONE_CHARACTER, text), first, rest)
        return _ONE_CHARACTER_PATTERN.sub(lambda _: next(shown), wrapped)
    return _wrap_lines(text, first, rest)


def _wrap_lines(text: str, first: str, rest: str) -> str:
    lines: list[str] = []
    for index, segment in enumerate(text.split("\n")):
        wrapped = textwrap.wrap(
            segment,
            width=WIDTH,
            initial_indent=first if index == 0 else rest,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.extend(wrapped or [(first if index == 0 else rest).rstrip()])
    return "\n".join(lines)


def _inline_of(node: SyntaxTreeNode) -> str:
    inline = node.children[0] if node.children else None
    if inline is None or inline.token is None:
        return ""
    return inline_to_text(inline.token.children or [])


def _table(node: SyntaxTreeNode) -> str:
    rows: list[str] = []
    for section in node.children:
        for row in section.children:
            cells = [_inline_of(cell).strip() for cell in row.children]
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _block(node: SyntaxTreeNode, first: str, rest: str) -> list[str]:
    """Render one block node as paragraphs (strings without a trailing blank line)."""
    kind = node.type
    if kind == "paragraph":
        return [_wrap(_inline_of(node), first, rest)]
    if kind == "heading":
        title = _inline_of(node).strip()
        underline = HEADING_UNDERLINES.get(node.tag)
        if underline:
            return [f"{first}{title}\n{rest}{underline * len(title)}"]
        return [f"{first}{title.upper()}"]
    if kind in ("bullet_list", "ordered_list"):
        return [_list(node, first, rest)]
    if kind == "blockquote":
        return _children(node.children, first + "> ", rest + "> ")
    if kind in ("fence", "code_block"):
        code = node.content.rstrip("\n")
        return ["\n".join(f"{rest}    {line}".rstrip() for line in code.split("\n"))]
    if kind == "hr":
        return [f"{first}{'-' * 20}"]
    if kind == "table":
        return [_table(node)]
    return _children(node.children, first, rest)


def _children(nodes: Sequence[SyntaxTreeNode], first: str, rest: str) -> list[str]:
    out: list[str] = []
    for index, child in enumerate(nodes):
        out.extend(_block(child, first if index == 0 else rest, rest))
    return out


def _list(node: SyntaxTreeNode, first: str, rest: str) -> str:
    start = int(str(node.attrs.get("start", 1))) if node.type == "ordered_list" else 1
    items: list[str] = []
    for offset, item in enumerate(node.children):
        marker = f"{start + offset}. " if node.type == "ordered_list" else "- "
        prefix = (first if offset == 0 else rest) + marker
        blocks = _children(item.children, prefix, rest + " " * len(marker))
        items.append("\n".join(blocks))
    return "\n".join(items)


def blocks_to_text(tokens: list[Token]) -> str:
    if not tokens:
        return ""
    root = SyntaxTreeNode(tokens)
    return "\n\n".join(_children(root.children, "", ""))
