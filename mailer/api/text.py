"""Text the API accepts: no control characters (a NUL would fail in PostgreSQL, the others
have no place in a title or an address), lengths within what the database holds. The JSON
Schema says so too, so a client can check before sending."""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls and lone surrogates (JSON can carry "\ud800").
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rules as JSON Schema patterns (which cannot name lone surrogates).
ONE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
LINES_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters (line breaks, tabs, NUL...)")
    return value


def lines(value: str) -> str:
    if _CONTROL_BUT_LINES.search(value):
        raise ValueError("must not hold control characters other than line breaks and tabs")
    return value


ONE_LINE = {"pattern": ONE_LINE_PATTERN}
LINES = {"pattern": LINES_PATTERN}
