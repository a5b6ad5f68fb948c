"""Reading a subscriber CSV as a stream of chunks ready for the database.

This half of an import touches no database, so it can run in a process of its own while the
other half writes (see :mod:`mailer.audience.csv_import`).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO

from mailer.audience.attributes import InvalidField
from mailer.audience.csv_encoding import (
    DecodeCheck,
    NotDecodable,
    Undecodable,
    check_whole_file,
    encoding_label,
)
from mailer.audience.csv_headers import read_header
from mailer.audience.csv_mapping import ColumnMapping, mapped_header
from mailer.audience.csv_plain_rows import parse_plain_rows
from mailer.audience.csv_reading import CsvReading, sniff_delimiter
from mailer.audience.csv_records import RecordReader, Records
from mailer.audience.csv_rows import CsvHeader, RowProblem, is_blank, parse_row
from mailer.audience.staged import BatchBuilder, StagedBatch, StagedRow
from mailer.errors import LocatedError

# Bytes after which a cell may start with an apostrophe (csv_cells' escape for formulas), for
# any delimiter: the file is read before its header line tells which one it uses.
_CELL_STARTS = (b",'", b";'", b"\t'", b"|'", b"\"'", b"\n'", b"\r'")
_BEFORE_A_CELL = b',;\t|"\r\n'


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

    def __init__(self, stream: BinaryIO, encoding: str | None, verify: bool) -> None:
        self.stream = stream
        self.count = 0
        self.unusual = False
        # Only UTF-8 is read leniently (a bad byte rejects its row); any named encoding is
        # strict, checked here as the bytes come unless the whole file was checked first.
        self._lenient = encoding is None
        self._check = DecodeCheck(encoding) if encoding is not None and verify else None
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._last = b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        if self._check is not None:
            self._check.feed(data, final=not data)
        if not self.unusual:
            if data:
                self.unusual = self._is_unusual(data)
            else:
                self.unusual = self._lenient and self._ends_inside_a_character()
        return len(data)

    def _ends_inside_a_character(self) -> bool:
        """At the end of the file: whether its last bytes began a character and stopped."""
        try:
            self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            return True
        return False

    def _is_unusual(self, data: bytes) -> bool:
        if b"\x00" in data or any(mark in data for mark in _CELL_STARTS):
            return True
        if data[:1] == b"'" and self._last in _BEFORE_A_CELL:
            return True
        self._last = data[-1:]
        if not self._lenient:  # decoded strictly: bytes beyond ASCII are just text
            return False
        # ASCII needs no decoding, unless the last read ended inside a character.
        if data.isascii() and not self._utf8.getstate()[0]:
            return False
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError:
            return True
        return False


def _read_header(
    records: RecordReader, source: str, mapping: ColumnMapping | None, reading: CsvReading
) -> CsvHeader:
    while True:
        taken = records.take(1)
        if taken.bad:
            bad = taken.bad[0]
            raise LocatedError(source, bad.line, f"the header row has {bad.damage.value}")
        if not taken.cells:
            raise LocatedError(source, 1, "the file is empty: a header row with 'email' is needed")
        if not is_blank(taken.cells[0]):
            if mapping is not None:
                return mapped_header(taken.cells[0], mapping, source, taken.lines[0])
            return read_header(taken.cells[0], source, taken.lines[0], reading.columns)


def _lines_to_header(text: Iterator[str]) -> list[str]:
    """The lines up to the first one that is not blank (the header line), read ahead to tell
    the delimiter."""
    lines = []
    for line in text:
        lines.append(line)
        if line.strip():
            break
    return lines


def read_chunks(
    stream: BinaryIO,
    source: str,
    batch_size: int,
    mapping: ColumnMapping | None = None,
    reading: CsvReading | None = None,
) -> Iterator[ParsedChunk]:
    """The file in chunks of up to ``batch_size`` rows; LocatedError if it cannot be read
    (NotDecodable if it is not in the encoding ``reading`` names). Its columns are read by
    ``mapping`` when given, else by the header row's names and ``reading.columns``."""
    reading = CsvReading() if reading is None else reading
    checked_first = reading.encoding is not None and stream.seekable()
    if checked_first and reading.encoding is not None:
        check_whole_file(stream, reading.encoding, source)
    watched = _WatchedReader(stream, reading.encoding, verify=not checked_first)
    encoding = reading.encoding or "utf-8"
    text = io.TextIOWrapper(
        io.BufferedReader(watched, 1 << 16),
        encoding="utf-8-sig" if encoding_label(encoding) == "UTF-8" else encoding,
        errors="surrogateescape",
        newline="",
    )
    try:
        lead = _lines_to_header(text)
        delimiter = reading.delimiter or sniff_delimiter(lead[-1] if lead else "")
        records = RecordReader(chain(lead, text), delimiter)
        header = _read_header(records, source, mapping, reading)
        while (taken := records.take(batch_size)).cells or taken.bad:
            yield _parse_chunk(header, taken, watched)
    except Undecodable as exc:
        raise NotDecodable(source, exc.line, exc.message) from None


def _parse_chunk(header: CsvHeader, taken: Records, watched: _WatchedReader) -> ParsedChunk:
    lines, records = taken.lines, taken.cells
    chunk = ParsedChunk(StagedBatch(), rows=len(records) + len(taken.bad), bytes_read=watched.count)
    for bad in taken.bad:
        email = bad.cells[header.email].strip() if header.email < len(bad.cells) else ""
        chunk.rejected.append(RowProblem(bad.line, email, "rejected", bad.reason))

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
