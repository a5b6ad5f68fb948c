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
    check_attribute_key,
    check_name,
    check_timezone,
    parse_tags,
)
from mailer.audience.csv_cells import restore
from mailer.audience.staged import StagedRow, staged_row
from mailer.errors import LocatedError


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


def read_header(cells: list[str], source: str, line: int = 1) -> CsvHeader:
    """Where each field is; names are case-insensitive (attribute names are stored lower-case)."""
    names = [restore(cell).strip() for cell in cells]
    lowered = [name.lower() for name in names]
    if "email" not in lowered:
        shown = ", ".join(repr(name) for name in names) or "none"
        raise LocatedError(source, line, f"the header row has no 'email' column (columns: {shown})")
    seen: set[str] = set()
    attributes: list[tuple[int, str]] = []
    for index, (name, low) in enumerate(zip(names, lowered, strict=True)):
        if low in seen:
            raise LocatedError(source, line, f"column {name!r} appears twice in the header row")
        seen.add(low)
        if low in ("email", "name", "timezone") or not name:
            continue
        try:
            attributes.append((index, check_attribute_key(name)))
        except InvalidField as exc:
            raise LocatedError(source, line, f"column {index + 1}: {exc}") from None
    return CsvHeader(
        email=lowered.index("email"),
        name=lowered.index("name") if "name" in lowered else None,
        timezone=lowered.index("timezone") if "timezone" in lowered else None,
        attributes=tuple(attributes),
        width=len(names),
    )


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
    raw_email = cells[header.email].strip()
    if not raw_email:
        raise InvalidField("no email address")
    try:
        address = normalize_address(raw_email)
    except InvalidAddress as exc:
        raise InvalidField(f"invalid email address: {exc}") from None
    attributes: dict[str, str | list[str]] = {}
    for index, key in header.attributes:
        value = cells[index].strip()
        parsed = parse_tags(value) if key == TAGS and value else value
        if parsed:  # empty cells (and a tags cell of bare separators) leave stored values alone
            attributes[key] = parsed
    return staged_row(
        address,
        check_name(cells[header.name]) if header.name is not None else "",
        check_timezone(cells[header.timezone]) if header.timezone is not None else None,
        attributes,
        line,
    )
