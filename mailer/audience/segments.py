"""Segment expressions: a small filter language over subscriber fields, attributes and tags.

``country = "CN" and "ai" in tags`` is parsed here into a tree of plain conditions (never
``eval``, never SQL from the user); :mod:`mailer.audience.segment_sql` turns that tree into a
SQL clause with bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mailer.errors import MailerError

MAX_LENGTH = 2000
MAX_DEPTH = 50
#: Fields that are columns of their own; every other name is an attribute.
COLUMN_FIELDS = frozenset({"email", "name", "timezone"})

_GRAMMAR = r"""
?start: disjunction
?disjunction: conjunction (_OR conjunction)*
?conjunction: negation (_AND negation)*
?negation: _NOT negation -> not_
         | atom
?atom: "(" disjunction ")"
     | field _EQ value                            -> equals
     | field _NE value                            -> not_equals
     | field _IN "(" value ("," value)* ")"       -> one_of
     | field _NOT _IN "(" value ("," value)* ")"  -> not_one_of
     | value _IN field                            -> has_item
     | value _NOT _IN field                       -> lacks_item
     | field _CONTAINS value                      -> contains
     | _HAS field                                 -> present
field: NAME
value: STRING

_EQ: "="
_NE: "!="
_AND.2: /and\b/i
_OR.2: /or\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_HAS.2: /has\b/i
_CONTAINS.2: /contains\b/i
NAME: /[A-Za-z_][A-Za-z0-9_.-]*/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
%ignore /[ \t\r\n]+/
"""

#: What a user should read instead of the grammar's terminal names.
_EXPECTED_WORDS = {
    "STRING": "a quoted value",
    "NAME": "a field name",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "_EQ": "'='",
    "_NE": "'!='",
    "_AND": "'and'",
    "_OR": "'or'",
    "_NOT": "'not'",
    "_IN": "'in'",
    "_HAS": "'has'",
    "_CONTAINS": "'contains'",
}


class SegmentError(MailerError):
    """A segment expression that cannot be parsed; points at the column."""

    def __init__(self, expression: str, column: int, message: str) -> None:
        self.expression = expression
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        # Show the line the column is on, so a caret under it lines up.
        line = self.expression.replace("\t", " ").replace("\r", " ").replace("\n", " ")
        return (
            f"segment, column {self.column}: {self.message}\n  {line}\n  {' ' * (self.column - 1)}^"
        )


@dataclass(frozen=True)
class Field:
    name: str

    @property
    def is_column(self) -> bool:
        return self.name.lower() in COLUMN_FIELDS


@dataclass(frozen=True)
class Equals:
    field: Field
    value: str


@dataclass(frozen=True)
class OneOf:
    field: Field
    values: tuple[str, ...]


@dataclass(frozen=True)
class Contains:
    """The field's text holds ``text``, ignoring case."""

    field: Field
    text: str


@dataclass(frozen=True)
class HasItem:
    """The field is a list holding ``item`` (or a plain value equal to it)."""

    field: Field
    item: str


@dataclass(frozen=True)
class Present:
    """The field has a non-empty value."""

    field: Field


@dataclass(frozen=True)
class Not:
    inner: Segment


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Segment, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Segment, ...]


Segment = Equals | OneOf | Contains | HasItem | Present | Not | AllOf | AnyOf

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@v_args(inline=True)
class _ToSegment(Transformer[Token, Segment]):
    def field(self, name: Token) -> Field:
        return Field(str(name))

    def value(self, token: Token) -> str:
        return _ESCAPE.sub(r"\1", str(token)[1:-1])

    def equals(self, field: Field, value: str) -> Segment:
        return Equals(field, value)

    def not_equals(self, field: Field, value: str) -> Segment:
        return Not(Equals(field, value))

    def one_of(self, field: Field, *values: str) -> Segment:
        return OneOf(field, tuple(values))

    def not_one_of(self, field: Field, *values: str) -> Segment:
        return Not(OneOf(field, tuple(values)))

    def has_item(self, item: str, field: Field) -> Segment:
        return HasItem(field, item)

    def lacks_item(self, item: str, field: Field) -> Segment:
        return Not(HasItem(field, item))

    def contains(self, field: Field, text: str) -> Segment:
        return Contains(field, text)

    def present(self, field: Field) -> Segment:
        return Present(field)

    def not_(self, inner: Segment) -> Segment:
        return Not(inner)

    def conjunction(self, *parts: Segment) -> Segment:
        return AllOf(tuple(parts))

    def disjunction(self, *parts: Segment) -> Segment:
        return AnyOf(tuple(parts))


@cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


def _expected(names: Iterable[str]) -> str:
    words = sorted({_EXPECTED_WORDS.get(name, name.lower()) for name in names})
    if not words:
        return ""
    if len(words) == 1:
        return f"expected {words[0]}"
    return f"expected {', '.join(words[:-1])} or {words[-1]}"


def _located(text: str, error: UnexpectedInput) -> SegmentError:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        character = text[position] if position < len(text) else ""
        if character in "\"'":
            return SegmentError(text, error.column, "this quoted value is never closed")
        return SegmentError(text, error.column, f"unexpected {character!r}")
    if isinstance(error, UnexpectedEOF):
        return SegmentError(
            text, len(text) + 1, f"the expression ends too early; {_expected(error.expected)}"
        )
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return SegmentError(
                text, len(text) + 1, f"the expression ends too early; {_expected(error.expected)}"
            )
        found = str(error.token)
        column = error.token.column if isinstance(error.token.column, int) else 1
        acceptable = set(error.accepts or error.expected)
        hint = _expected(acceptable)
        if error.token.type == "NAME" and "STRING" in acceptable:
            hint = f'values are quoted, as in "{found}"'
        return SegmentError(text, column, f"unexpected {found!r}; {hint}")
    return SegmentError(text, 1, str(error))


def _depth(tree: Tree[Token]) -> int:
    """Nesting depth, counted without recursion (the input may be deeply nested)."""
    deepest = 0
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def parse_segment(text: str) -> Segment:
    """Parse a segment expression; :class:`SegmentError` says what is wrong and where."""
    if not text.strip():
        raise SegmentError(text, 1, 'the segment is empty; write a condition like country = "CN"')
    if len(text) > MAX_LENGTH:
        raise SegmentError(
            text[:80], 81, f"the segment is {len(text)} characters; at most {MAX_LENGTH}"
        )
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise _located(text, error) from None
    if _depth(tree) > MAX_DEPTH:
        raise SegmentError(text, 1, f"the segment nests deeper than {MAX_DEPTH} levels")
    segment: Segment = _ToSegment().transform(tree)
    return segment
