"""One reader typed as one value (``--to`` on the command line): ``EMAIL`` or ``Name <EMAIL>``,
nothing else.

The email package's ``parseaddr`` took the first address of a list (``a@x, b@y``) or of a
group, and joined text after an address onto it (``a@x.com junk`` read as ``a@x.comjunk``).
So the two forms are matched whole here, and the address goes to normalize_address, which
holds it to the rules an import applies (the 64-octet local part among them). The name is
taken as typed, unfolded from its quotes but never decoded (an encoded-word in it is data, and
is written into headers as such); a name holding one of RFC 5322's specials must be in double
quotes, so no part of a name can be read as a second address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from mailer.audience.addresses import Address, InvalidAddress, normalize_address
from mailer.errors import FieldError

SPECIALS = '()<>[]:;@\\,"'
_QUOTED_NAME = r'"(?P<quoted>(?:[^"\\]|\\.)*)"'
_PLAIN_NAME = r'(?P<plain>[^()<>\[\]:;@\\,"]*)'
_NAME_ADDR = re.compile(rf"\s*(?:{_QUOTED_NAME}|{_PLAIN_NAME})\s*<(?P<address>[^<>]*)>\s*", re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)
# RFC 5322's group: a display name, a colon, addresses, a semicolon.
_GROUP = re.compile(r'[^"<>@,;]*:.*;\s*', re.S)
FORMS = "give one address, as EMAIL or 'Name <EMAIL>'"


@dataclass(frozen=True, slots=True)
class NamedAddress:
    name: str
    """The display name as typed (without its quotes), or empty."""
    address: Address


def _not_one_address(text: str) -> str | None:
    """Why ``text``, which is not one of the two forms, is not one address (None when it
    is just an address that is not valid: email-validator says why)."""
    if _GROUP.fullmatch(text):
        return f"is a group of addresses; {FORMS}"
    # Lenient, so only to count: what it reads as addresses has at least an @-sign.
    found = sum("@" in address for _, address in getaddresses([text]))
    if found > 1:
        return f"holds {found} addresses; {FORMS}"
    end = text.rfind(">")
    if end != -1 and text[end + 1 :].strip():
        return f"has text after the address; {FORMS}"
    if "<" in text or ">" in text:
        shown = " ".join(SPECIALS)
        return f"{FORMS} (a name holding any of {shown} goes in double quotes)"
    return None


def named_address(text: str, field: str) -> NamedAddress:
    """The reader ``text`` names, or a FieldError naming ``field`` and saying why not."""
    matched = _NAME_ADDR.fullmatch(text)
    if matched is None:
        reason = _not_one_address(text)
        if reason is not None:
            raise FieldError(field, reason, text)
        name, spec = "", text
    else:
        quoted = matched["quoted"]
        name = matched["plain"] if quoted is None else _QUOTED_PAIR.sub(r"\1", quoted)
        spec = matched["address"]
    try:
        address = normalize_address(spec)
    except InvalidAddress as exc:
        raise FieldError(field, str(exc), text) from None
    return NamedAddress(name.strip(), address)
