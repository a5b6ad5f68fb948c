"""Reading a subscriber CSV as a stream of chunks ready for the database.

This half of an import touches no database, so it can run in a process of its own while the
other half writes (see :mod:`mailer.audience.csv_import`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, BinaryIO

from mailer.audience.attributes import InvalidField
from mailer.audience.csv_plain_rows import parse_plain_rows
from mailer.audience.csv_rows import CsvHeader, RowProblem, is_blank, parse_row, read_header
from mailer.audience.staged import BatchBuilder, StagedBatch, StagedRow
from mailer.errors import LocatedError

if TYPE_CHECKING:
    from _csv import Reader

# csv's default 128 KB field limit is far above any sane cell; it only guards memory.
csv.field_size_limit(1024 * 1024)

# Bytes after which a cell may start with an apostrophe (csv_cells' escape for formulas).
_CELL_STARTS = (b",'", b"\"'", b"\n'", b"\r'")


@dataclass
class ParsedChunk:
    """The next part of the file: its valid rows as a batch, its rejected rows, bytes read."""

    batch: StagedBatch
    rejected: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    bytes_read: int = 0


class _WatchedReader(io.RawIOBase):
    """Counts the bytes read (progress works for pipes as well as files) and notes whether any
    of them need the full row check: bytes that are not UTF-8, NUL bytes, or a cell that starts
    with an apostrophe. Until then, every row may take the plain path."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0
        self.unusual = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._last = b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        if data and not self.unusual:
            self.unusual = self._is_unusual(data)
        return len(data)

    def _is_unusual(self, data: bytes) -> bool:
        if b"\x00" in data or any(mark in data for mark in _CELL_STARTS):
            return True
        if data[:1] == b"'" and self._last in b',"\r\n':
            return True
        self._last = data[-1:]
        if data.isascii():
            return False
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError:
            return True
        return False


# How TextIOWrapper(newline="") ends a line, and so how csv counts them.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _first_lines(before: int, records: list[list[str]]) -> list[int]:
    """Line numbers of records when some span several lines: one per line break in a cell."""
    lines = []
    line = before + 1
    for cells in records:
        lines.append(line)
        line += 1 + sum(len(_LINE_BREAK.findall(cell)) for cell in cells)
    return lines


def _record_chunks(reader: Reader, size: int) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """(first line of each record, the records), ``size`` records at a time."""
    while True:
        before = reader.line_num
        records = list(islice(reader, size))
        if not records:
            return
        if reader.line_num - before == len(records):  # one line each: the usual case
            yield range(before + 1, before + 1 + len(records)), records
        else:
            yield _first_lines(before, records), records


def _first_record(reader: Reader) -> list[str] | None:
    for cells in reader:
        if cells and not is_blank(cells):
            return cells
    return None


def read_chunks(stream: BinaryIO, source: str, batch_size: int) -> Iterator[ParsedChunk]:
    """The file in chunks of up to ``batch_size`` rows; LocatedError if it cannot be read."""
    watched = _WatchedReader(stream)
    text = io.TextIOWrapper(
        io.BufferedReader(watched, 1 << 16),
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",
    )
    reader = csv.reader(text, strict=False)
    cells = _first_record(reader)
    if cells is None:
        raise LocatedError(source, 1, "the file is empty: a header row with 'email' is needed")
    header = read_header(cells, source)
    for lines, records in _record_chunks(reader, batch_size):
        yield _parse_chunk(header, lines, records, watched)


def _parse_chunk(header: CsvHeader, lines: Sequence[int], records: list[list[str]],
                 watched: _WatchedReader) -> ParsedChunk:  # fmt: skip
    chunk = ParsedChunk(StagedBatch(), rows=len(records), bytes_read=watched.count)

    def full_check(cells: list[str], line: int) -> StagedRow | None:
        try:
            return parse_row(header, cells, line)
        except InvalidField as exc:
            if is_blank(cells):
                chunk.rows -= 1
                return None
            email = cells[header.email].strip() if header.email < len(cells) else ""
            chunk.rejected.append(RowProblem(line, email, "rejected", str(exc)))
            return None

    if watched.unusual:
        builder = BatchBuilder()
        rows = map(full_check, records, lines)
        builder.add_rows([row for row in rows if row is not None])
        chunk.batch = builder.take()
    else:
        chunk.batch = parse_plain_rows(header, lines, records, full_check)
    return chunk
