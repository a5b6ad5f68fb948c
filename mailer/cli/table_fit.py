"""Tables that stay readable in a narrow terminal (80 columns and less).

Left to itself, rich shares the width out evenly: a key cell (a list's name, a time) is cut
with "…" and a title wraps a word a line. Here a column says whether its cells must stay
whole, and which columns go first when they cannot all be shown readably; what is left
wraps long text at word boundaries (or inside a long word, never cutting it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    Cell = str | Text

# The narrowest a column of wrapped text is worth showing at, and the longest word it
# keeps on one line (a time with its zone, a file name) before folding it.
WRAPPED_MIN = 10
LONGEST_WORD = 24


@dataclass(frozen=True)
class Col:
    header: str
    whole: bool = False
    """Never wrapped nor cut (ids, names, times, counts)."""
    drop: int = 0
    """0: always shown; else left out when the terminal is too narrow, higher numbers first."""


def _length(cell: Cell) -> int:
    from rich.cells import cell_len

    return cell_len(_plain(cell))


def _need(column: Col, cells: Sequence[Cell]) -> int:
    """The fewest columns of the terminal ``column`` needs to stay readable: its widest
    cell, or for wrapped text its longest word (up to ``LONGEST_WORD``: longer ones are
    folded) and at least ``WRAPPED_MIN``."""
    widest = max([len(column.header), *(_length(cell) for cell in cells)])
    if column.whole:
        return widest
    words = [_length(word) for cell in cells for word in _plain(cell).split()]
    longest = min(max(words, default=0), LONGEST_WORD)
    return min(widest, max(len(column.header), longest, WRAPPED_MIN))


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell.plain


def _total(needs: Sequence[int]) -> int:
    # Each column has a space either side and a border on its left; the table one more.
    return sum(needs) + 3 * len(needs) + 1


def kept_columns(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int) -> list[int]:
    """Which columns (by index) fit in ``width``: the droppable ones go, highest ``drop``
    first (an empty one before any other), until the rest fit or only the kept ones remain."""
    needs = [_need(column, [row[i] for row in rows]) for i, column in enumerate(columns)]
    empty = {i for i in range(len(columns)) if rows and all(_length(row[i]) == 0 for row in rows)}
    kept = list(range(len(columns)))
    order = sorted(
        (i for i, column in enumerate(columns) if column.drop),
        key=lambda i: (i not in empty, -columns[i].drop),
    )
    for index in order:
        if _total([needs[i] for i in kept]) <= width:
            break
        kept.remove(index)
    return kept


def fits(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int) -> bool:
    """Whether every column fits readably in ``width``."""
    needs = [_need(column, [row[i] for row in rows]) for i, column in enumerate(columns)]
    return _total(needs) <= width


def fitted_table(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int) -> Table:
    """A table of ``rows`` with the columns that fit in ``width``."""
    from rich.table import Table

    kept = kept_columns(columns, rows, width)
    widths = _widths([columns[i] for i in kept], [[row[i] for i in kept] for row in rows], width)
    table = Table()
    for i, column_width in zip(kept, widths, strict=True):
        column = columns[i]
        if column.whole:
            table.add_column(column.header, no_wrap=True, width=column_width)
        else:
            table.add_column(column.header, overflow="fold", width=column_width)
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table


def _widths(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int) -> list[int]:
    """Each column's width: whole ones their widest cell; the wrapped ones share what is left
    (rich's own sharing can end a column past ``width``), each at least its need, the space
    handed out a column at a time to those whose text is still wrapped."""
    cells = [[row[i] for row in rows] for i in range(len(columns))]
    natural = [
        max([len(c.header), *(_length(cell) for cell in cells[i])]) for i, c in enumerate(columns)
    ]
    widths = [_need(column, cells[i]) for i, column in enumerate(columns)]
    spare = width - _total(widths)
    while spare > 0:
        short = [i for i in range(len(columns)) if widths[i] < natural[i]]
        if not short:
            break
        for i in short:
            if spare == 0:
                break
            widths[i] += 1
            spare -= 1
    return widths


def line_width() -> int | None:
    """How wide a plain line written a row at a time may be: $COLUMNS, else the terminal's
    width; None when the output goes to a file or a pipe (a row stays one line there, for
    grep and cut)."""
    import os
    import shutil
    import sys

    columns = os.environ.get("COLUMNS", "")
    if columns.isdecimal() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def row_lines(start: str, rest: str, width: int | None) -> str:
    """``start`` (the cells kept whole) and ``rest`` (free text) as one line; where that is
    wider than ``width``, ``rest`` goes on the lines below, indented and wrapped."""
    line = f"{start} {rest}".rstrip()
    if width is None or not rest or len(line) <= width:
        return line + "\n"
    import textwrap

    indent = "    "
    wrapped = textwrap.wrap(
        rest,
        width=max(width, len(indent) + WRAPPED_MIN),
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    return "\n".join([start.rstrip(), *wrapped]) + "\n"
