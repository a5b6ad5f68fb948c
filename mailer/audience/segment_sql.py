"""Segments compiled to SQL: every user value is a bound parameter, on SQLite and PostgreSQL.

Each condition is two-valued (true or false, never NULL), so ``not`` means what a reader
expects: ``country != "CN"`` also matches subscribers with no country at all.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mailer.audience.segments import (
    AllOf,
    AnyOf,
    Contains,
    Equals,
    Field,
    HasItem,
    Not,
    OneOf,
    Present,
    Segment,
)
from mailer.db.tables import subscribers
from mailer.errors import MailerError

Condition = sa.ColumnElement[bool]


class _Fields(Protocol):
    def text(self, field: Field) -> sa.ColumnElement[str]:
        """The field's value when it is a single text, else NULL."""

    def has_item(self, field: Field, item: str) -> Condition:
        """The field is a list holding ``item``, or a text equal to it."""

    def present(self, field: Field) -> Condition:
        """The field has a non-empty value."""


def _column(field: Field) -> sa.ColumnElement[str]:
    name = field.name.lower()
    # Addresses compare case-insensitively: the lower-cased key is what makes them unique.
    return subscribers.c.email_key if name == "email" else subscribers.c[name]


def _column_value(field: Field, value: str) -> str:
    return value.lower() if field.name.lower() == "email" else value


def _key(field: Field) -> str:
    # Attribute names are case-insensitive: stored lower-case (mailer.audience.attributes).
    return field.name.lower()


def _column_present(field: Field) -> Condition:
    column = _column(field)
    return sa.and_(column.is_not(None), column != "")


class _SqliteFields:
    """Attributes through SQLite's JSON1 functions; the JSON path is a bound parameter too."""

    attributes = subscribers.c.attributes

    @staticmethod
    def _path(field: Field) -> str:
        # Attribute names are letters, digits, '_', '.', '-' (the grammar allows no quote),
        # and the quoted form makes a dotted name one key rather than a nested path.
        return f'$."{_key(field)}"'

    def _type(self, field: Field) -> sa.ColumnElement[str]:
        return sa.func.json_type(self.attributes, self._path(field), type_=sa.String)

    def text(self, field: Field) -> sa.ColumnElement[str]:
        if field.is_column:
            return _column(field)
        value = sa.func.json_extract(self.attributes, self._path(field), type_=sa.String)
        return sa.case((self._type(field) == "text", value), else_=sa.null())

    def has_item(self, field: Field, item: str) -> Condition:
        if field.is_column:
            return _equals(_column(field), _column_value(field, item))
        items = sa.func.json_each(self.attributes, self._path(field)).table_valued("value", "type")
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(items)
            .where(items.c.type == "text", items.c.value == item)
        )

    def present(self, field: Field) -> Condition:
        if field.is_column:
            return _column_present(field)
        path = self._path(field)
        kind = self._type(field)
        return sa.and_(
            kind.is_not(None),  # a missing key must be false, not NULL
            sa.or_(
                sa.and_(kind == "text", sa.func.json_extract(self.attributes, path) != ""),
                sa.and_(kind == "array", sa.func.json_array_length(self.attributes, path) > 0),
            ),
        )


class _PostgresFields:
    """Attributes through JSONB operators: ``->``, ``->>`` and containment ``@>``."""

    attributes = sa.type_coerce(subscribers.c.attributes, postgresql.JSONB)

    def _kind(self, field: Field) -> sa.ColumnElement[str]:
        return sa.func.jsonb_typeof(self.attributes[_key(field)], type_=sa.String)

    def text(self, field: Field) -> sa.ColumnElement[str]:
        if field.is_column:
            return _column(field)
        return sa.case(
            (self._kind(field) == "string", self.attributes[_key(field)].astext),
            else_=sa.null(),
        )

    def has_item(self, field: Field, item: str) -> Condition:
        if field.is_column:
            return _equals(_column(field), _column_value(field, item))
        # An array contains a string it holds, and a string contains itself: one operator
        # serves tags lists and plain attributes alike.
        holds = self.attributes[_key(field)].contains(
            sa.bindparam(None, item, type_=postgresql.JSONB)
        )
        return sa.func.coalesce(holds, sa.false(), type_=sa.Boolean)

    def present(self, field: Field) -> Condition:
        if field.is_column:
            return _column_present(field)
        value = self.attributes[_key(field)]
        kind = self._kind(field)
        return sa.and_(
            kind.is_not(None),  # a missing key must be false, not NULL
            sa.or_(
                sa.and_(kind == "string", value.astext != ""),
                sa.and_(kind == "array", sa.func.jsonb_array_length(value) > 0),
            ),
        )


def _equals(expression: sa.ColumnElement[str], value: str) -> Condition:
    return sa.and_(expression.is_not(None), expression == value)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _compile(segment: Segment, fields: _Fields) -> Condition:
    match segment:
        case Equals(field, value):
            return _equals(fields.text(field), _column_value(field, value))
        case OneOf(field, values):
            text = fields.text(field)
            wanted = sorted({_column_value(field, value) for value in values})
            return sa.and_(text.is_not(None), text.in_(wanted))
        case Contains(field, wanted):
            found = fields.text(field)
            pattern = f"%{_escape_like(wanted)}%"
            return sa.and_(found.is_not(None), found.ilike(pattern, escape="\\"))
        case HasItem(field, item):
            return fields.has_item(field, item)
        case Present(field):
            return fields.present(field)
        case Not(inner):
            return sa.not_(_compile(inner, fields))
        case AllOf(parts):
            return sa.and_(*(_compile(part, fields) for part in parts))
        case AnyOf(parts):
            return sa.or_(*(_compile(part, fields) for part in parts))
    raise AssertionError(f"unknown segment node {segment!r}")


def segment_clause(segment: Segment, dialect_name: str) -> Condition:
    """A WHERE clause over ``subscribers`` selecting the segment's members."""
    if dialect_name == "sqlite":
        return _compile(segment, _SqliteFields())
    if dialect_name == "postgresql":
        return _compile(segment, _PostgresFields())
    raise MailerError(f"segments are not supported on the {dialect_name!r} database")
