"""Shared by the header tests: read a written message back the way a mail reader would and
check that a subscriber's name stayed data.

Two readers: the ``email`` package with its strict policy gives the header set and the To
address; RFC 2047's own rule (``email.header.decode_header``, which drops the white space
between adjacent encoded-words as the RFC says) gives the name a mail client shows. The
modern parser keeps that white space inside an address's display name (its own long names
come back with a space wherever it split them), so with it only the characters are compared.
"""

from __future__ import annotations

import re
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser, Parser

# What build_message writes, in order, with no Reply-To configured.
INTENDED_HEADERS = [
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
]
# A name's control characters and line separators become one space, and the ends are trimmed
# (the README's promise); everything else is kept as typed.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def shown_name(name: str) -> str:
    return _LINE_BREAKING.sub(" ", name).strip()


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def parse(raw: bytes) -> EmailMessage:
    """The message as the strict ``email`` parser reads it (UTF-8 headers as RFC 6532 has
    them, when the message has any)."""
    head = header_block(raw)
    if head.isascii():
        message = BytesParser(policy=policy.strict).parsebytes(raw)
    else:
        message = Parser(policy=policy.strict.clone(utf8=True)).parsestr(raw.decode("utf-8"))
    assert isinstance(message, EmailMessage)
    return message


def rfc2047_name(message: EmailMessage) -> str:
    """The To display name as an RFC 2047 reader decodes it."""
    raw = next(value for key, value in message.raw_items() if key.lower() == "to")
    unfolded = _UNFOLD.sub("", raw).strip()
    phrase, angle, _ = unfolded.rpartition(" <")
    if not angle:
        return ""
    return str(make_header(decode_header(phrase)))


def assert_one_reader(
    raw: bytes, addr_spec: str, name: str, intended: list[str] = INTENDED_HEADERS
) -> EmailMessage:
    """Exactly the intended headers, one To address (``addr_spec``), the name as typed."""
    head = header_block(raw)
    # No CR or LF in the header block other than a line end (a lone one is a line break to
    # some readers and not to others).
    assert b"\r" not in head.replace(b"\r\n", b""), head
    assert b"\n" not in head.replace(b"\r\n", b""), head
    for line in head.split(b"\r\n"):
        assert line[:1] in (b" ", b"\t") or line.split(b":", 1)[0].decode() in intended
    message = parse(raw)
    assert list(message.keys()) == intended
    to = message["To"]
    assert [address.addr_spec for address in to.addresses] == [addr_spec]
    assert not [d for d in to.defects if "non-ASCII" not in str(d)], to.defects
    expected = shown_name(name)
    assert rfc2047_name(message) == expected
    shown = to.addresses[0].display_name
    assert "".join(shown.split()) == "".join(expected.split())
    return message
