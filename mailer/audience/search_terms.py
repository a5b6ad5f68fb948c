"""The text of a subscriber search, made safe and turned into index ranges.

A prefix is matched as a range of an index, ``prefix <= key < successor(prefix)``, never with
``LIKE``: no character of the search (``%``, ``_``, ``\\``, quotes) means anything but itself,
and the range reads only the matching part of the index. The range is exact in code point
order, which is SQLite's order (``BINARY``: UTF-8 bytes) and PostgreSQL's with a C or
C.UTF-8 collation.
"""

from __future__ import annotations

from mailer.audience.attributes import UNSTORABLE
from mailer.audience.segments import SegmentError

#: The longest stored address and name (subscribers.email_key, subscribers.name): a longer
#: search text is the prefix of nothing.
EMAIL_MAX = 320
NAME_MAX = 200

_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def successor(prefix: str) -> str | None:
    """The least text greater than every text starting with ``prefix``; None when there is
    none (an empty prefix, or one made only of the last code point)."""
    kept = prefix.rstrip(chr(_LAST_CODE_POINT))
    if not kept:
        return None
    following = ord(kept[-1]) + 1
    if following in _SURROGATES:
        # Surrogates cannot be stored (nor encoded as UTF-8): the next storable one follows.
        following = _SURROGATES.stop
    return kept[:-1] + chr(following)


def is_storable(text: str) -> bool:
    """Whether any stored text could hold ``text``: no database stores a NUL, and a lone
    surrogate is not Unicode text (the drivers refuse to send it)."""
    return UNSTORABLE.search(text) is None


def search_words(query: str | None) -> str | None:
    """The search as names are stored (spaces collapsed, none at the ends); None for no search."""
    if query is None:
        return None
    collapsed = " ".join(query.split())
    return collapsed or None


def check_segment_text(segment: str) -> None:
    """A segment's values are bound as text: refuse, at its column, a character no database
    can take, before it reaches the driver."""
    found = UNSTORABLE.search(segment)
    if found is not None:
        # Shown with U+FFFD in its place, one character for one, so the caret lines up.
        raise SegmentError(
            UNSTORABLE.sub("\ufffd", segment),
            found.start() + 1,
            f"the character {found.group()!r} cannot be part of a segment",
        )
