"""Merge tokens: per-recipient fields that survive MJML and premailer, filled in per recipient.

An issue is rendered once with tokens in place of per-recipient values; each recipient's copy
is then one string-format call. Tokens differ by part so a value can be HTML-escaped in the
HTML part and left raw in the text part: ``@@h.name@@`` and ``@@t.name@@``. The characters are
chosen to pass unchanged through Markdown link normalisation, Jinja autoescaping, MJML, and
libxml2's URI-attribute escaping.

A value tested per reader (``{% if subscriber.first_name %}``, ``| default``) is rendered as
markers around both branches: ``@@if.first_name@@A@@if.else@@B@@if.end@@`` (``@@if.not.X@@``
for ``not``); each copy keeps the branch its reader's value chooses (see merge_syntax).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from hashlib import sha1
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
_FIELD = "|".join(STANDARD_FIELDS) + r"|attr\.[A-Za-z0-9_-]+"
TOKEN_PATTERN = re.compile(r"@@([ht])\.(" + _FIELD + r")@@")
# A token, or a marker of a value tested per reader: if (or if not), else, end.
_PIECE = re.compile(
    r"@@(?:([ht])\.(" + _FIELD + r")|if\.(?:(not\.)?(" + _FIELD + r")|(else|end)))@@"
)
CONDITION_PREFIX = "if."
MARKER_PATTERN = re.compile(r"@@if\.(?:(?:not\.)?(?:" + _FIELD + r")|else|end)@@")
# Characters that would let a value start a new header line or hide one.
HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def token(part: Part, name: str) -> str:
    return f"@@{part}.{name}@@"


def if_marker(name: str, negated: bool = False) -> str:
    return f"@@if.{'not.' if negated else ''}{name}@@"


def else_marker() -> str:
    return "@@if.else@@"


def end_marker() -> str:
    return "@@if.end@@"


class MergeMarkupError(ValueError):
    """The markers of a value tested per reader do not pair up (one was lost or added)."""


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


def _slot(item: tuple[Part, str] | _Conditional) -> tuple[Part, str]:
    # A conditional's value is escaped already, branch by branch; its part only names its token.
    return (HTML_PART, item.name) if isinstance(item, _Conditional) else item


def _value_reader(part: Part, name: str) -> Callable[[Recipient], str]:
    """A function from recipient to the slot's value, escaped for the HTML part."""
    if name.startswith(ATTRIBUTE_PREFIX) or name == "first_name":
        read: Callable[[Recipient], str] = partial(Recipient.value, name=name)
    else:
        read = attrgetter(name)
    if part == HTML_PART:
        return lambda recipient: escape(read(recipient), quote=True)
    return read


class _Conditional:
    """A value tested per reader: which branch a recipient gets. Built once per send and read
    for every recipient, so the reads are prepared: a branch without merge fields is its text."""

    __slots__ = ("_fields", "_otherwise", "_shown", "_value", "field", "name", "negated")

    def __init__(
        self, name: str, field: str, negated: bool, shown: MergeTemplate, otherwise: MergeTemplate
    ) -> None:
        self.name, self.field, self.negated = name, field, negated
        self._fields = field, shown.fields, otherwise.fields
        self._value = _value_reader(TEXT_PART, field)
        self._shown = _branch(shown)
        self._otherwise = _branch(otherwise)

    @property
    def fields(self) -> frozenset[str]:
        field, shown, otherwise = self._fields
        return frozenset({field}) | shown | otherwise

    def read(self, recipient: Recipient) -> str:
        if bool(self._value(recipient).strip()) != self.negated:
            return self._shown(recipient)
        return self._otherwise(recipient)


def _branch(template: MergeTemplate) -> Callable[[Recipient], str]:
    """How to fill a branch, short for the usual ones: a fallback text, or one field in text."""
    if not template.slots:
        text = template.fill([])
        return lambda _: text
    if len(template.slots) == 1:
        (before, after), (read,) = template._literals, template._readers
        return lambda recipient: before + read(recipient) + after
    return template.personalize


_Item = tuple[Part, str] | _Conditional


def _conditional(
    text: str, field: str, negated: bool, shown: MergeTemplate, otherwise: MergeTemplate
) -> _Conditional:
    # Named by its text: the same conditional twice (or in both parts) is the same value.
    name = CONDITION_PREFIX + sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return _Conditional(name, field, negated, shown, otherwise)


def _sequence(
    body: str, matches: list[re.Match[str]], index: int, position: int, inside: bool
) -> tuple[list[str], list[_Item], int, int, str]:
    """The literals and items from ``matches[index]`` up to the else or end that closes the
    conditional the caller is ``inside``; with the index and position after it and which."""
    literals: list[str] = []
    items: list[_Item] = []
    while index < len(matches):
        match = matches[index]
        literals.append(body[position : match.start()])
        index, position = index + 1, match.end()
        if match[5]:
            if not inside:
                raise MergeMarkupError(f"{match[0]} without the {{% if %}} it belongs to")
            return literals, items, index, position, match[5]
        if match[1]:
            items.append((match[1], match[2]))  # type: ignore[arg-type]
            continue
        start = match.start()
        shown = _sequence(body, matches, index, position, inside=True)
        _, _, index, position, closed = shown
        otherwise: tuple[list[str], list[_Item]] = ([""], [])
        if closed == "else":
            branch = _sequence(body, matches, index, position, inside=True)
            otherwise, (_, _, index, position, closed) = (branch[0], branch[1]), branch
            if closed != "end":
                raise MergeMarkupError(f"{match[0]} has two else markers")
        items.append(
            _conditional(
                body[start:position],
                match[4],
                bool(match[3]),
                MergeTemplate.of(shown[0], shown[1]),
                MergeTemplate.of(*otherwise),
            )
        )
    if inside:
        raise MergeMarkupError("a conditional on a subscriber field has no end marker")
    literals.append(body[position:])
    return literals, items, index, position, ""


def _reader(item: _Item) -> Callable[[Recipient], str]:
    if isinstance(item, _Conditional):
        return item.read
    return _value_reader(*item)


class MergeTemplate:
    """A body split once at its tokens, so a personalized copy is one ``str.join``; a
    conditional is one slot whose value is its chosen branch, filled in."""

    _literals: list[str]
    slots: tuple[tuple[Part, str], ...]
    _readers: tuple[Callable[[Recipient], str], ...]
    _fields: frozenset[str]

    def __init__(self, body: str) -> None:
        matches = list(_PIECE.finditer(body))
        literals, items, *_ = _sequence(body, matches, 0, 0, inside=False)
        self._setup(literals, items)

    @classmethod
    def of(cls, literals: list[str], items: list[_Item]) -> MergeTemplate:
        template = cls.__new__(cls)
        template._setup(literals, items)
        return template

    def _setup(self, literals: list[str], items: list[_Item]) -> None:
        self._literals = literals
        self.slots = tuple(_slot(item) for item in items)
        self._readers = tuple(_reader(item) for item in items)
        fields: set[str] = set()
        for item in items:
            if isinstance(item, _Conditional):
                fields |= item.fields
            else:
                fields.add(item[1])
        self._fields = frozenset(fields)

    @property
    def fields(self) -> frozenset[str]:
        """The recipient fields the body uses, conditionals' included."""
        return self._fields

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
