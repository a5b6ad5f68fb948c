"""The common CSV rows of a chunk, checked a column at a time.

A million-row import would spend most of its time in per-row Python. Nearly every row has the
same plain shape, though: as many cells as the header, an ASCII ``local@domain`` address, a
known time zone or none, a name of ordinary length. For those rows each field is checked down
its whole column with C-level tools (``map``, one regular expression over the chunk's address
column, ``compress``), which costs a fraction of a loop over rows. Any row that is not plain is
left to :func:`mailer.audience.csv_rows.parse_row`, which decides it in full; both give the
same row for the same cells, and a property test holds them to it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256
from itertools import compress, repeat
from operator import itemgetter, methodcaller

import orjson

from mailer.audience.addresses import ADDRESS_MAX, LOCAL_PART_MAX, PLAIN_ADDRESS, checked_domain
from mailer.audience.attributes import NAME_MAX, TAGS, known_timezones, parse_tags
from mailer.audience.csv_rows import CsvHeader
from mailer.audience.staged import BatchBuilder, StagedBatch, StagedColumns, StagedRow

#: Decides a row the plain path does not: the row, or None when it is skipped or rejected.
FullCheck = Callable[[list[str], int], StagedRow | None]

# One line of the address column, joined with "\n": a plain address (with the spaces and tabs
# str.strip would remove) or anything else, so findall gives exactly one match per line.
_ADDRESS_LINES = re.compile(rf"^[ \t\r\f\v]*{PLAIN_ADDRESS.pattern}[ \t\r\f\v]*$|^.*$", re.M)
_hexdigest = methodcaller("hexdigest")


def _address_parts(addresses: list[str]) -> list[tuple[str, str]]:
    """(local part, domain) of each plain address, ("", "") for any other."""
    parts: list[tuple[str, str]] = _ADDRESS_LINES.findall("\n".join(addresses))
    if len(parts) == len(addresses):
        return parts
    # A cell with a line break in it: one address at a time instead.
    matches = map(PLAIN_ADDRESS.fullmatch, map(str.strip, addresses))
    return [(match[1], match[2]) if match else ("", "") for match in matches]


def _normalized(parts: list[tuple[str, str]]) -> list[str]:
    """Each address as normalize_address gives it, or "" where that needs the full check."""
    domains: dict[str, str | None] = {"": None}
    for domain in set(map(itemgetter(1), parts)) - {""}:
        checked = checked_domain(domain)
        domains[domain] = checked if isinstance(checked, str) else None
    return [
        f"{local}@{domain}"
        if (domain := domains[raw_domain]) is not None
        and len(local) <= LOCAL_PART_MAX
        and len(local) + len(domain) < ADDRESS_MAX
        else ""
        for local, raw_domain in parts
    ]


def _json_members(key: str, values: list[str]) -> list[str]:
    """``"key":value`` JSON text for each cell of an attribute column ("" for an empty cell).
    Values repeat a lot (countries, tag sets), so each distinct one is encoded once."""
    name = orjson.dumps(key).decode() + ":"
    encoded: dict[str, str] = {"": ""}
    for raw in set(values) - {""}:
        value = parse_tags(raw) if key == TAGS else raw.strip()
        encoded[raw] = name + orjson.dumps(value).decode() if value else ""
    return list(map(encoded.__getitem__, values))


def _attributes(header: CsvHeader, cells: list[list[str]]) -> list[str]:
    """The JSON object text of each row's non-empty attribute cells, in header order: the
    same text orjson gives for the dict that parse_row builds."""
    if not header.attributes:
        return ["{}"] * len(cells)
    columns = [
        _json_members(key, list(map(itemgetter(index), cells))) for index, key in header.attributes
    ]
    members = map(",".join, map(filter, repeat(None), zip(*columns, strict=True)))
    return list(map("{%s}".__mod__, members))


def _plain_columns(header: CsvHeader, cells: list[list[str]], lines: Sequence[int],
                   plain: list[bool]) -> StagedColumns:  # fmt: skip
    """Columns of the rows marked plain; clears the mark of any that turn out not to be."""
    cells = list(compress(cells, plain))
    emails = _normalized(_address_parts(list(map(itemgetter(header.email), cells))))
    checks: list[list[bool]] = [list(map(bool, emails))]
    names = [""] * len(cells)
    if header.name_columns:
        getter = itemgetter(*header.name_columns)
        # First and last name columns are joined, as the full check joins them.
        raw_names: Iterable[str] = (
            map(getter, cells)
            if len(header.name_columns) == 1
            else map(" ".join, map(getter, cells))
        )
        names = list(map(" ".join, map(str.split, raw_names)))
        if max(map(len, names), default=0) > NAME_MAX:
            checks.append([len(name) <= NAME_MAX for name in names])
    timezones: list[str | None] = [None] * len(cells)
    if header.timezone is not None:
        raw_zones = list(map(str.strip, map(itemgetter(header.timezone), cells)))
        unknown = set(raw_zones) - known_timezones() - {""}
        if unknown:
            checks.append([zone not in unknown for zone in raw_zones])
        timezones = [zone or None for zone in raw_zones]
    passed = list(map(all, zip(*checks, strict=True)))
    if not all(passed):
        verdicts = iter(passed)
        plain[:] = [is_plain and next(verdicts) for is_plain in plain]
        cells = list(compress(cells, passed))
        emails = list(compress(emails, passed))
        names = list(compress(names, passed))
        timezones = list(compress(timezones, passed))
    keys = list(map(str.lower, emails))
    return StagedColumns(
        keys,
        emails,
        list(map(_hexdigest, map(sha256, map(str.encode, keys)))),
        names,
        timezones,
        _attributes(header, cells),
        list(compress(lines, plain)),
    )


def _batch(columns: StagedColumns, others: list[StagedRow]) -> StagedBatch:
    """One batch of the plain columns and the fully checked rows, repeated addresses merged."""
    keys = columns.keys + [row[0] for row in others]
    if len(set(keys)) == len(keys):
        return StagedBatch(columns.extended(others) if others else columns)
    # The same address twice: merge in file order, as the rows came.
    builder = BatchBuilder()
    builder.add_rows(sorted([*columns.rows(), *others], key=itemgetter(6)))
    return builder.take()


def parse_plain_rows(
    header: CsvHeader, lines: Sequence[int], cells: list[list[str]], full_check: FullCheck
) -> StagedBatch:
    """The chunk's rows: plain ones checked here by column, the others by ``full_check``."""
    width = header.width
    plain = [True] * len(cells)
    if set(map(len, cells)) - {width}:
        plain = [len(row) == width for row in cells]
    for index in header.special_columns:  # a filled JSON or refusal cell: the full check
        plain = [
            is_plain and not row[index].strip() for is_plain, row in zip(plain, cells, strict=True)
        ]
    columns = _plain_columns(header, cells, lines, plain)
    others = []
    if not all(plain):
        for line, row_cells in compress(zip(lines, cells, strict=True), map(operator.not_, plain)):
            row = full_check(row_cells, line)
            if row is not None:
                others.append(row)
    return _batch(columns, others)
