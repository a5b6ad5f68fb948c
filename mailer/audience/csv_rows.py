"""Reading a subscriber CSV: the header, each row's checks, and batches ready for the database.

This half of an import touches no database, so it can run in a process of its own while the
other half writes (see :mod:`mailer.audience.csv_import`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

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
from mailer.audience.staged import BatchBuilder, StagedBatch, StagedRow, staged_row
from mailer.errors import LocatedError

# csv's default 128 KB field limit is far above any sane cell; it only guards memory.
csv.field_size_limit(1024 * 1024)


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


@dataclass
class ParsedChunk:
    """The next part of the file: its valid rows as a batch, its rejected rows, bytes read."""

    batch: StagedBatch
    rejected: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    bytes_read: int = 0


class _CountingReader(io.RawIOBase):
    """Counts bytes read, so progress works for pipes as well as files."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@dataclass(frozen=True)
class _Header:
    email: int
    name: int | None
    timezone: int | None
    attributes: tuple[tuple[int, str], ...]
    width: int


def _read_header(cells: list[str], source: str) -> _Header:
    names = [restore(cell).strip() for cell in cells]
    lowered = [name.lower() for name in names]
    if "email" not in lowered:
        shown = ", ".join(repr(name) for name in names) or "none"
        raise LocatedError(source, 1, f"the header row has no 'email' column (columns: {shown})")
    seen: set[str] = set()
    attributes: list[tuple[int, str]] = []
    for index, (name, low) in enumerate(zip(names, lowered, strict=True)):
        if low in seen:
            raise LocatedError(source, 1, f"column {name!r} appears twice in the header row")
        seen.add(low)
        if low in ("email", "name", "timezone") or not name:
            continue
        try:
            attributes.append((index, check_attribute_key(name)))
        except InvalidField as exc:
            raise LocatedError(source, 1, f"column {index + 1}: {exc}") from None
    return _Header(
        email=lowered.index("email"),
        name=lowered.index("name") if "name" in lowered else None,
        timezone=lowered.index("timezone") if "timezone" in lowered else None,
        attributes=tuple(attributes),
        width=len(names),
    )


# errors="surrogateescape" turns bytes that are not UTF-8 into these lone surrogates; NUL is
# text to Python but PostgreSQL cannot store it (and no real name or value holds one).
_UNSTORABLE = re.compile("[\x00\udc80-\udcff]")


def _parse_row(header: _Header, cells: list[str], line: int) -> StagedRow:
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
        if value:
            attributes[key] = parse_tags(value) if key == TAGS else value
    return staged_row(
        address,
        check_name(cells[header.name]) if header.name is not None else "",
        check_timezone(cells[header.timezone]) if header.timezone is not None else None,
        attributes,
        line,
    )


def _records(text: io.TextIOBase) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells); a quoted cell may span several lines."""
    reader = csv.reader(text, strict=False)
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if cells and any(cell.strip() for cell in cells):
            yield start, cells


def read_chunks(stream: BinaryIO, source: str, batch_size: int) -> Iterator[ParsedChunk]:
    """The file in chunks of up to ``batch_size`` rows; LocatedError if it cannot be read."""
    counting = _CountingReader(stream)
    text = io.TextIOWrapper(
        io.BufferedReader(counting, 1 << 16),
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",
    )
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise LocatedError(source, 1, "the file is empty: a header row with 'email' is needed")
    header = _read_header(first[1], source)
    builder = BatchBuilder()
    chunk = ParsedChunk(StagedBatch())
    for line, cells in records:
        chunk.rows += 1
        try:
            builder.add(_parse_row(header, cells, line))
        except InvalidField as exc:
            email = cells[header.email].strip() if header.email < len(cells) else ""
            chunk.rejected.append(RowProblem(line, email, "rejected", str(exc)))
        if chunk.rows >= batch_size:
            chunk.batch, chunk.bytes_read = builder.take(), counting.count
            yield chunk
            chunk = ParsedChunk(StagedBatch())
    chunk.batch, chunk.bytes_read = builder.take(), counting.count
    yield chunk
