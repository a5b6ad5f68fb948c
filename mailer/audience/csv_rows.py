"""One subscriber CSV row, checked in full: the header, each cell's rules, the reasons for
rejecting a row.

This is the authority on what a row means. :mod:`mailer.audience.csv_plain_rows` takes a
shortcut for the common row shape and hands everything else here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.audience.addresses import InvalidAddress, normalize_address
from mailer.audience.attributes import (
    TAGS,
    InvalidField,
    check_name,
    check_timezone,
    parse_tags,
)
from mailer.audience.csv_cells import restore
from mailer.audience.csv_json import json_attributes
from mailer.audience.staged import StagedRow, staged_row


@dataclass(frozen=True)
class RowProblem:
    line: int
    email: str
    outcome: str
    """'rejected', 'suppressed' or 'unsubscribed'."""
    reason: str

    def as_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "email": self.email,
            "outcome": self.outcome,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CsvHeader:
    """Where each field is: cell positions of the header row."""

    email: int
    name: int | None
    timezone: int | None
    attributes: tuple[tuple[int, str], ...]
    """(position, attribute key) of every other named column."""
    width: int
    name_parts: tuple[int, ...] = ()
    """With no name column: the first and last name columns, joined by a space."""
    json_attributes: int | None = None
    """A column of JSON objects (listmonk's ``attributes``), each key an attribute; the
    named attribute columns win over it."""
    refusals: tuple[tuple[int, Refusal], ...] = ()
    """Columns that keep a row out (an unsubscribe time, a blocklisted status)."""

    @property
    def name_columns(self) -> tuple[int, ...]:
        return (self.name,) if self.name is not None else self.name_parts

    @property
    def special_columns(self) -> tuple[int, ...]:
        """Columns whose filled cells need the full row check."""
        json = () if self.json_attributes is None else (self.json_attributes,)
        return json + tuple(index for index, _ in self.refusals)


@dataclass(frozen=True)
class Refusal:
    """A column of another tool's export saying a person must not be mailed: a filled cell
    (or one of ``values``, compared lower-case) keeps the row out, saying ``reason``."""

    column: str
    reason: str
    values: frozenset[str] | None = None

    def refuses(self, cell: str) -> str | None:
        value = cell.strip()
        if not value or (self.values is not None and value.lower() not in self.values):
            return None
        return f"{self.reason} ({self.column} {value[:40]!r}); not imported"


def is_blank(cells: list[str]) -> bool:
    """A row of empty or whitespace-only cells, skipped like an empty line."""
    return not any(cell.strip() for cell in cells)


# errors="surrogateescape" turns bytes that are not UTF-8 into these lone surrogates; NUL is
# text to Python but PostgreSQL cannot store it (and no real name or value holds one).
_UNSTORABLE = re.compile("[\x00\udc80-\udcff]")


def parse_row(header: CsvHeader, cells: list[str], line: int) -> StagedRow:
    """The row ready for the database, or InvalidField saying what is wrong with it."""
    joined = "".join(cells)
    found = _UNSTORABLE.search(joined)
    if found is not None:
        raise InvalidField("not valid UTF-8" if found[0] != "\x00" else "holds a NUL byte")
    if len(cells) > header.width:
        raise InvalidField(f"{len(cells)} cells, but the header row has {header.width} columns")
    if "'" in joined:
        cells = [restore(cell) if cell[:1] == "'" else cell for cell in cells]
    if len(cells) < header.width:
        cells += [""] * (header.width - len(cells))
    for index, refusal in header.refusals:
        refused = refusal.refuses(cells[index])
        if refused is not None:
            raise InvalidField(refused)
    raw_email = cells[header.email].strip()
    if not raw_email:
        raise InvalidField("no email address")
    try:
        address = normalize_address(raw_email)
    except InvalidAddress as exc:
        raise InvalidField(f"invalid email address: {exc}") from None
    attributes: dict[str, str | list[str]] = {}
    if header.json_attributes is not None:
        attributes.update(json_attributes(cells[header.json_attributes]))
    for index, key in header.attributes:
        value = cells[index].strip()
        parsed = parse_tags(value) if key == TAGS and value else value
        if parsed:  # empty cells (and a tags cell of bare separators) leave stored values alone
            attributes[key] = parsed
    return staged_row(
        address,
        check_name(" ".join(cells[index] for index in header.name_columns)),
        check_timezone(cells[header.timezone]) if header.timezone is not None else None,
        attributes,
        line,
    )
