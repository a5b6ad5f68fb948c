"""Spreadsheet formula neutralization that survives a round trip through import.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return runs as a formula when a
spreadsheet opens the file (CSV injection). Export prefixes such cells with an apostrophe, which
spreadsheets show as text; import drops that one apostrophe again, so exported files re-import to
the same data. A cell that itself starts with an apostrophe gets a second one, for the same reason.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPED_STARTS = (*FORMULA_STARTS, "'")


def neutralize(cell: str) -> str:
    return "'" + cell if cell.startswith(ESCAPED_STARTS) else cell


def restore(cell: str) -> str:
    if cell.startswith("'") and cell[1:].startswith(ESCAPED_STARTS):
        return cell[1:]
    return cell
