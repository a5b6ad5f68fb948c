"""A CSV file as records, each with the line it starts on, read so that one stray quote or one
huge cell cannot take the rest of the file with it.

csv.reader does the reading at C speed. Around it:

- A record that spans lines (a quoted cell holding line breaks) must be well-formed CSV. A quote
  left open, whether never closed or "closed" by a quote that is not followed by a comma or a
  line end (in truth the opening quote of a later cell), makes one cell of every line up to
  there. Such a record is cut back to its first line, which is rejected there, and the lines it
  took in are read again as rows of their own.
- A cell longer than :data:`CELL_MAX` characters rejects its row instead of stopping the import.
  A quoted cell that runs past the limit spans lines, so it is taken for a quote left open. The
  limit also keeps memory flat whatever an open quote would take in.

To read lines again, the lines of records not yet handed out are kept. They come from the file
a block at a time, so the usual file costs no Python per line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import cache
from itertools import chain, islice
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from _csv import Reader

CELL_MAX = 65_536
csv.field_size_limit(CELL_MAX)

_BLOCK = 4096  # lines read from the file at a time


@cache
def _well_formed(delimiter: str) -> re.Pattern[str]:
    """A well-formed record (RFC 4180): quoted cells, with quotes inside doubled, or cells with
    no quote, delimiter or line break. Possessive, so a long open quote fails in one pass."""
    between = re.escape(delimiter)
    cell = rf'(?:"(?:[^"]|"")*+"|[^"{between}\r\n]*+)'
    return re.compile(rf"{cell}(?:{between}{cell})*+(?:\r\n|\r|\n)?")


# How TextIOWrapper(newline="") ends a line, and so how csv counts lines.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Damage(Enum):
    OPEN_QUOTE = "a quote that is never closed"
    LONG_CELL = f"a cell longer than {CELL_MAX:,} characters"


class BadRecord(NamedTuple):
    """A record rejected before its cells are looked at."""

    line: int
    cells: list[str]
    """What can be read of its first line, for the report."""
    damage: Damage
    reason: str


class Records(NamedTuple):
    lines: list[int]
    """The line each record starts on."""
    cells: list[list[str]]
    bad: list[BadRecord]


def _first_lines(before: int, records: list[list[str]]) -> list[int]:
    """Line numbers of records when some span several lines: one per line break in a cell."""
    lines = []
    line = before + 1
    for cells in records:
        lines.append(line)
        line += 1 + sum(len(_LINE_BREAK.findall(cell)) for cell in cells)
    return lines


def _next_lines(count: int) -> str:
    if count == 1:
        return "the next 1 line, which is read as a row of its own"
    return f"the next {count} lines, which are read as rows of their own"


class RecordReader:
    def __init__(self, text: Iterable[str], delimiter: str = ",") -> None:
        self._text = iter(text)
        self._delimiter = delimiter
        self._kept: list[str] = []
        self._first_kept = 1
        """Line number of _kept[0]."""
        self._streamed = 0
        """The last line the file has given any reader."""
        self._stream = chain.from_iterable(self._blocks())
        self._start(1, [])

    def take(self, wanted: int) -> Records:
        """The next ``wanted`` records (fewer at the end of the file, none after it)."""
        taken = Records([], [], [])
        while (left := wanted - len(taken.cells) - len(taken.bad)) > 0 and self._take(left, taken):
            pass
        self._forget_done()
        return taken

    def _blocks(self) -> Iterator[list[str]]:
        while block := list(islice(self._text, _BLOCK)):
            self._kept += block
            yield block

    def _start(self, line: int, again: list[str]) -> None:
        """A new csv reader whose first line is ``line``: ``again`` (kept lines), then the file."""
        self._reader: Reader = csv.reader(
            chain(again, self._stream), strict=False, delimiter=self._delimiter
        )
        self._base = line - 1

    @property
    def _line(self) -> int:
        """The last line the reader has read."""
        return self._base + self._reader.line_num

    def _kept_lines(self, first: int, last: int) -> list[str]:
        return self._kept[first - self._first_kept : last - self._first_kept + 1]

    def _read_again_from(self, line: int) -> None:
        self._streamed = max(self._streamed, self._line)
        self._start(line, self._kept_lines(line, self._streamed))

    def _forget_done(self) -> None:
        """Drop the kept lines of records handed out: they are never read again."""
        done = self._line + 1 - self._first_kept
        if done > 0:
            del self._kept[:done]
            self._first_kept += done

    def _take(self, wanted: int, taken: Records) -> bool:
        """Add up to ``wanted`` records to ``taken``; False at the end of the file."""
        before = self._line
        try:
            records = list(islice(self._reader, wanted))
        except csv.Error:  # a cell over the limit: find it a record at a time
            self._read_again_from(before + 1)
            return self._take_singly(wanted, taken)
        if not records:
            return False
        if self._line - before == len(records):  # one line each: the usual case
            taken.lines.extend(range(before + 1, before + 1 + len(records)))
            taken.cells.extend(records)
            return True
        starts = _first_lines(before, records)
        ends = [start - 1 for start in starts[1:]] + [self._line]
        for count, (start, end, cells) in enumerate(zip(starts, ends, records, strict=True)):
            bad = self._open_quote(start, end)
            if bad is not None:
                taken.bad.append(bad)
                # The records after it are read again too, one at a time from here: a file
                # with many open quotes then reads each line about twice, not once per quote.
                self._read_again_from(start + 1)
                return self._take_singly(wanted - count - 1, taken)
            taken.lines.append(start)
            taken.cells.append(cells)
        return True

    def _take_singly(self, wanted: int, taken: Records) -> bool:
        for _ in range(wanted):
            start = self._line + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return False
            except csv.Error as error:
                taken.bad.append(self._too_long(start, self._line, error))
                self._read_again_from(start + 1)
                continue
            bad = self._open_quote(start, self._line)
            if bad is not None:
                taken.bad.append(bad)
                self._read_again_from(start + 1)
                continue
            taken.lines.append(start)
            taken.cells.append(cells)
        return True

    def _first_line_cells(self, line: int) -> list[str]:
        # Cut to the limit, no cell of it can be over the limit.
        first = self._kept_lines(line, line)[0][:CELL_MAX]
        return next(csv.reader([first], strict=False, delimiter=self._delimiter), [])

    def _open_quote(self, start: int, end: int) -> BadRecord | None:
        """The record of lines start..end, rejected if it spans lines and is not well-formed."""
        if end == start or _well_formed(self._delimiter).fullmatch(
            "".join(self._kept_lines(start, end))
        ):
            return None
        taken_in = _next_lines(end - start)
        reason = f"a quote opened on this line is never closed (it would take in {taken_in})"
        return BadRecord(start, self._first_line_cells(start), Damage.OPEN_QUOTE, reason)

    def _too_long(self, start: int, end: int, error: csv.Error) -> BadRecord:
        if not str(error).startswith("field larger than field limit"):
            reason = f"cannot be read as CSV: {error}"  # no other error is known to happen
        elif end == start:
            reason = f"a cell is longer than {CELL_MAX:,} characters"
        else:
            reason = (
                f"a quoted cell opened on this line runs past {CELL_MAX:,} characters (a quote "
                f"left open?): it took in {_next_lines(end - start)}"
            )
        damage = Damage.LONG_CELL if end == start else Damage.OPEN_QUOTE
        return BadRecord(start, self._first_line_cells(start), damage, reason)
