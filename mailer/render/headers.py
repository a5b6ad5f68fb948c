"""Header lines that carry outside text (names, the subject), written exactly as built here.

Python's ``email`` package parses every header value it is handed and folds it afresh when the
message is written: an RFC 2047 encoded-word in a value is decoded on the way in, and whatever
it held (a CR LF and a ``Bcc:`` line, a comma and a second address) goes back out as raw header
text. So a name that reads ``=?utf-8?q?Ann=0D=0ABcc=3A...?=`` used to add a header. The lines
are built here instead and handed to the message as a finished header object, which the
package writes as it is (its policies call ``fold`` on any value that has a ``name``).

Text goes out unencoded only when no reader could take it for anything else: words of RFC 5322
atext (printable ASCII, for a display name) or printable ASCII (for the subject), with no
``=?`` in them. Anything else is written as UTF-8 encoded-words, so an encoded-word-looking
name is itself encoded and a reader shows it literally, never decodes it twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.charset import Charset
from email.policy import Policy
from itertools import chain, repeat

from mailer.render.tokens import header_safe

_UTF8 = Charset("utf-8")  # Q or base64, whichever is shorter
# RFC 2047: an encoded-word is at most 75 characters and a line holding one at most 76.
ENCODED_WORD_MAX = 75
LINE_MAX = 76
# RFC 5322 atext, one space between words: a display name a reader takes as it is.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
# A subject is kept on one line up to here (folding it makes some clients break it early).
TEXT_PLAIN_MAX = 900
_SURROGATES = re.compile("[\ud800-\udfff]")


class WrittenHeader(str):
    """A header the ``email`` package writes unchanged: ``lines`` are its folded lines (the
    value is them joined by a space); the package's policies write a value that has a
    ``name`` through its own ``fold``."""

    name: str
    lines: tuple[str, ...]

    def __new__(cls, name: str, lines: Sequence[str]) -> WrittenHeader:
        header = super().__new__(cls, " ".join(lines))
        header.name = name
        header.lines = tuple(lines)
        return header

    def fold(self, *, policy: Policy) -> str:
        text = (policy.linesep + " ").join(self.lines)
        if not text.isascii() and not getattr(policy, "utf8", False):
            # Only an address's local part can be non-ASCII here: RFC 6532 mail only.
            raise ValueError(f"{self.name}: {text!r} needs an internationalized (UTF-8) message")
        return f"{self.name}: {text}{policy.linesep}"


def encoded_words(text: str, first: int = ENCODED_WORD_MAX) -> list[str]:
    """``text`` as UTF-8 encoded-words of at most 75 characters (``first`` for the first),
    split between characters. A lone surrogate (from bytes that were not UTF-8) becomes
    U+FFFD."""
    text = _SURROGATES.sub("\ufffd", text)
    lengths = chain([max(first, 20)], repeat(ENCODED_WORD_MAX))
    return [str(word) for word in _UTF8.header_encode_lines(text, lengths)]


def _wrapped(words: list[str], first: int) -> list[str]:
    """Words on lines of at most LINE_MAX (``first`` for the first), one space apart."""
    lines: list[str] = []
    room = first
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += " " + word
        else:
            if lines:
                room = LINE_MAX - 1  # a continuation line starts with a space
            lines.append(word)
    return lines


def phrase_lines(text: str, first: int) -> list[str]:
    """A display name as header lines: atoms as they are, anything else encoded."""
    if _ATOMS.fullmatch(text) and "=?" not in text and len(text) <= TEXT_PLAIN_MAX:
        return _wrapped(text.split(" "), first)
    return encoded_words(text, first)


def named_header(name: str, entries: Sequence[tuple[str, str]]) -> WrittenHeader:
    """``display name <target>, ...`` (an address list, or a List-Id): each name folded like
    header_safe and written as data; just ``<target>`` for an empty name."""
    lines: list[str] = []
    for index, (display_name, target) in enumerate(entries):
        first = LINE_MAX - (len(name) + 2 if not lines else 1)
        shown = header_safe(display_name)
        entry = phrase_lines(shown, first) if shown else []
        angle = f"<{target}>" + ("," if index < len(entries) - 1 else "")
        if entry and len(entry[-1]) + 1 + len(angle) <= LINE_MAX:
            entry[-1] += " " + angle
        else:
            entry.append(angle)
        lines.extend(entry)
    return WrittenHeader(name, lines)


def text_header(name: str, text: str) -> WrittenHeader:
    """Unstructured text (a subject), folded like header_safe and written as data."""
    shown = header_safe(text)
    if _PRINTABLE.fullmatch(shown) and "=?" not in shown and len(shown) <= TEXT_PLAIN_MAX:
        return WrittenHeader(name, [shown])
    return WrittenHeader(name, encoded_words(shown, LINE_MAX - len(name) - 2))
