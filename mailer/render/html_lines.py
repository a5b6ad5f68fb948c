"""Short lines for the HTML part, broken only where a line break changes nothing shown.

MJML and premailer write a section's tables, its Outlook conditional comments and their
inline styles on one line, often over 1,000 characters: past RFC 5321's 998-character limit,
which some servers enforce by breaking the line anywhere (inside a URL, say), and a sign
spam filters score. A line is broken here, greedily near ``width``, only at whitespace that
HTML reads as any other whitespace:

- between the attributes of a tag (never inside a quoted value);
- between words of a run of text longer than a line (shorter ones are kept whole, so text
  such as a button's label reads the same in the source), except inside elements whose
  whitespace is shown as written (``pre``, ``textarea``, or a ``white-space: pre...`` or
  ``break-spaces`` style).

Comments (Outlook's ``<!--[if mso]>`` markers among them), ``<style>``, ``<script>`` and
``<textarea>`` elements, and attribute values are kept whole, so one of those longer than
``width`` stays on a line of its own length; so is the text of a ``pre`` (only the inside of
a tag in it may break).
"""

from __future__ import annotations

import re

# Well under RFC 5321's 998, yet long enough that most tags stay on one line.
HTML_LINE_WIDTH = 200

_TOKEN = re.compile(
    # Elements whose content is text kept exactly as written.
    r"(?P<raw><(?P<raw_name>style|script|textarea)\b(?:\"[^\"]*\"|'[^']*'|[^>\"'])*>"
    r".*?</(?P=raw_name)\s*>)"
    # Outlook's conditional comments: their markers are kept whole, what they hold is HTML.
    r"|(?P<marker><!--\[if[^\]]*\]>(?:<!-->)?|(?:<!--)?<!\[endif\]-->)"
    # Other comments, and declarations such as the doctype, kept whole.
    r"|(?P<comment><!--.*?-->|<![^>]*>)"
    r"|(?P<tag></?[A-Za-z?](?:\"[^\"]*\"|'[^']*'|[^>\"'])*>)"
    r"|(?P<text>[^<]+|<)",
    re.IGNORECASE | re.DOTALL,
)
# Whitespace inside a tag outside its quoted attribute values (which match as a whole).
_TAG_SPACE = re.compile(r"(\"[^\"]*\"|'[^']*')|[ \t]+")
_TEXT_SPACE = re.compile(r" +")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9:-]*)")
_PRESERVING_STYLE = re.compile(
    r"\bstyle\s*=\s*(\"[^\"]*|'[^']*)white-space\s*:\s*(pre|break-spaces)", re.IGNORECASE
)
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)

# A piece of the document: its text, and whether a line may start after it (it is a single
# space that may become a line break).
_Piece = tuple[str, bool]


class _Pieces:
    """Splits the document into pieces, marking the whitespace that may become a newline."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.pieces: list[_Piece] = []
        # Names of the open elements whose whitespace is shown as written (and any element of
        # the same name opened inside one, so that its end tag is matched).
        self.preserving: list[str] = []

    def add(self, text: str) -> None:
        if text:
            self.pieces.append((text, False))

    def add_spaced(self, text: str, space: re.Pattern[str]) -> None:
        """``text`` with each match of ``space`` that is whitespace made a break point."""
        start = 0
        for match in space.finditer(text):
            if match.group(0)[0] not in " \t":
                continue  # a quoted attribute value, kept whole
            self.add(text[start : match.start()])
            self.add(match.group(0)[:-1])
            self.pieces.append((" ", True))
            start = match.end()
        self.add(text[start:])

    def tag(self, text: str) -> None:
        name_match = _TAG_NAME.match(text)
        name = name_match.group(1).lower() if name_match else ""
        closing = text.startswith("</")
        if closing and self.preserving and self.preserving[-1] == name:
            self.preserving.pop()
        elif not closing and name not in _VOID and not text.endswith("/>"):
            same_as_open = bool(self.preserving) and self.preserving[-1] == name
            if same_as_open or name == "pre" or _PRESERVING_STYLE.search(text):
                self.preserving.append(name)
        self.add_spaced(text, _TAG_SPACE)

    def text(self, text: str) -> None:
        if self.preserving or len(text) <= self.width:
            self.add(text)
        else:
            self.add_spaced(text, _TEXT_SPACE)


def _pieces(html: str, width: int) -> list[_Piece]:
    pieces = _Pieces(width)
    for match in _TOKEN.finditer(html):
        kind = match.lastgroup
        if kind == "tag":
            pieces.tag(match.group(0))
        elif kind == "text":
            pieces.text(match.group(0))
        else:
            pieces.add(match.group(0))
    return pieces.pieces


def wrap_html(html: str, width: int = HTML_LINE_WIDTH) -> str:
    """``html`` with its lines longer than ``width`` broken at break points: each line ends
    at the last one that keeps it within ``width``, or at the first one past it when a piece
    that cannot be broken is longer. A document whose lines are all short is returned as is."""
    if all(len(line) <= width for line in html.split("\n")):
        return html
    out: list[str] = []
    column = 0  # length of the current line so far
    last_break = -1  # index in ``out`` of the current line's last break point, if any

    def break_line() -> None:
        nonlocal column, last_break
        out[last_break] = "\n"
        column = sum(len(piece) for piece in out[last_break + 1 :])
        last_break = -1

    for text, breakable in _pieces(html, width):
        if breakable:
            if column >= width:
                if last_break >= 0:
                    break_line()
                if column >= width:
                    out.append("\n")
                    column = 0
                    continue
            last_break = len(out)
            out.append(" ")
            column += 1
            continue
        first_newline = text.find("\n")
        head = len(text) if first_newline < 0 else first_newline
        if column + head > width and last_break >= 0:
            break_line()
        out.append(text)
        if first_newline < 0:
            column += len(text)
        else:
            column = len(text) - text.rfind("\n") - 1
            last_break = -1
    return "".join(out)
