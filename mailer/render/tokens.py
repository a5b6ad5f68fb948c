"""Merge tokens: per-recipient fields that survive MJML and premailer, filled in per recipient.

An issue is rendered once with tokens in place of per-recipient values; each recipient's copy
is then one string-format call. Tokens differ by part so a value can be HTML-escaped in the
HTML part and left raw in the text part: ``@@h.name@@`` and ``@@t.name@@``. The characters are
chosen to pass unchanged through Markdown link normalisation, Jinja autoescaping, MJML, and
libxml2's URI-attribute escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from html import escape
from operator import attrgetter
from types import MappingProxyType
from typing import Literal, NamedTuple

Part = Literal["h", "t"]
HTML_PART: Part = "h"
TEXT_PART: Part = "t"

STANDARD_FIELDS = ("email", "name", "first_name", "unsubscribe_url", "preferences_url")
ATTRIBUTE_PREFIX = "attr."
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
TOKEN_PATTERN = re.compile(r"@@([ht])\.(" + "|".join(STANDARD_FIELDS) + r"|attr\.[A-Za-z0-9_-]+)@@")
# Characters that would let a value start a new header line or hide one.
HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def token(part: Part, name: str) -> str:
    return f"@@{part}.{name}@@"


NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


class Recipient(NamedTuple):
    """The per-recipient values a personalized copy needs. A tuple: a send builds one per
    recipient, and a tuple is several times cheaper to make than a frozen dataclass."""

    email: str
    name: str = ""
    unsubscribe_url: str = ""
    preferences_url: str = ""
    attributes: Mapping[str, str] = NO_ATTRIBUTES

    def value(self, name: str) -> str:
        if name.startswith(ATTRIBUTE_PREFIX):
            return str(self.attributes.get(name[len(ATTRIBUTE_PREFIX) :], ""))
        if name == "first_name":
            return self.name.split()[0] if self.name.strip() else ""
        value: str = getattr(self, name)
        return value


def header_safe(value: str) -> str:
    """Fold control characters (CR, LF, NUL...) to a space so a value can never add a header."""
    return HEADER_UNSAFE.sub(" ", value).strip()


class MergeFields:
    """What templates see as ``subscriber``: each field renders as the token of one part."""

    def __init__(self, part: Part) -> None:
        self._part = part
        self.attributes = _AttributeTokens(part)

    def __getattr__(self, name: str) -> str:
        if name in STANDARD_FIELDS:
            return token(self._part, name)
        raise AttributeError(
            f"subscriber has no field {name!r}; fields: {', '.join(STANDARD_FIELDS)}, "
            "attributes.NAME"
        )


class _AttributeTokens:
    def __init__(self, part: Part) -> None:
        self._part = part

    def __getitem__(self, name: str) -> str:
        if not ATTRIBUTE_NAME.match(name):
            raise KeyError(f"attribute names use letters, digits, '-' and '_' only: {name!r}")
        return token(self._part, ATTRIBUTE_PREFIX + name)

    __getattr__ = __getitem__


def _value_reader(part: Part, name: str) -> Callable[[Recipient], str]:
    """A function from recipient to the slot's value, escaped for the HTML part."""
    if name.startswith(ATTRIBUTE_PREFIX) or name == "first_name":
        read: Callable[[Recipient], str] = partial(Recipient.value, name=name)
    else:
        read = attrgetter(name)
    if part == HTML_PART:
        return lambda recipient: escape(read(recipient), quote=True)
    return read


class MergeTemplate:
    """A body split once at its tokens, so a personalized copy is one ``str.join``."""

    def __init__(self, body: str) -> None:
        pieces = TOKEN_PATTERN.split(body)
        self._literals = pieces[0::3]
        self.slots: tuple[tuple[Part, str], ...] = tuple(
            zip(pieces[1::3], pieces[2::3], strict=True)  # type: ignore[arg-type]
        )
        self._readers = tuple(_value_reader(part, name) for part, name in self.slots)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name in self.slots)

    def fill(self, values: Sequence[str]) -> str:
        """Fill the slots, in order, with values already escaped for their part."""
        pieces = [""] * (len(self._literals) + len(values))
        pieces[0::2] = self._literals
        pieces[1::2] = values
        return "".join(pieces)

    def personalize(self, recipient: Recipient) -> str:
        return self.fill([read(recipient) for read in self._readers])

    def fill_tokens(self, naming: Callable[[Part, str], str] = token) -> str:
        """The body with its tokens in place (for a provider that substitutes them);
        ``naming`` may give slots of both parts one token when their values are the same."""
        return self.fill([naming(part, name) for part, name in self.slots])

    def readers(self) -> dict[tuple[Part, str], Callable[[Recipient], str]]:
        """Each slot (part, field) with the function giving a recipient's value for it."""
        return dict(zip(self.slots, self._readers, strict=True))

    def substitutions(self) -> dict[str, Callable[[Recipient], str]]:
        """Each token of the body with the function giving a recipient's value for it (escaped
        for its part), for providers that substitute themselves (SendGrid)."""
        return {
            token(part, name): read
            for (part, name), read in zip(self.slots, self._readers, strict=True)
        }
