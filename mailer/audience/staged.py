"""Incoming subscribers, merged by address and flattened into rows ready for the database.

Every way in (an import, ``subscribers add``) turns its input into :class:`StagedRow` tuples
and feeds them to a :class:`BatchBuilder`. The builder folds repeats of an address into
the first occurrence (later non-empty fields win, attributes merge) and hands out
:class:`StagedBatch` values of plain tuples: cheap to send between processes and to load into
the database in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, cast

import orjson

from mailer.audience.addresses import Address, address_hash
from mailer.audience.attributes import AttributeValue


@dataclass
class IncomingSubscriber:
    address: Address
    name: str = ""
    timezone: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    line: int = 0


#: One address of a batch, as the staging table holds it: a plain tuple rather than a named
#: one, because a million of them cross a process boundary and plain tuples pickle 3x faster.
StagedRow = tuple[str, str, str, str, str | None, str, int]
STAGED_COLUMNS = ("key", "email", "address_hash", "name", "timezone", "attributes", "line")
# Positions in a StagedRow; attributes is JSON object text.
_KEY: Final = 0
_EMAIL: Final = 1
_NAME: Final = 3
_TIMEZONE: Final = 4
_ATTRIBUTES: Final = 5
_LINE: Final = 6


def staged_row(
    address: Address,
    name: str,
    timezone: str | None,
    attributes: Mapping[str, AttributeValue],
    line: int,
) -> StagedRow:
    # orjson: an import encodes a million of these, ten times faster than json.dumps.
    encoded = orjson.dumps(attributes).decode()
    return (address.key, address.email, address_hash(address.key), name, timezone, encoded, line)


class Repeat(NamedTuple):
    """A later row of the same batch with an address already seen: merged into the first."""

    key: str
    email: str
    line: int
    changed: bool


class StagedColumns(NamedTuple):
    """A batch by field: position i of every list is one address. Lists of a million strings
    pickle and load faster than a million tuples, and each database takes the fields it
    needs in the order it needs them."""

    keys: list[str]
    emails: list[str]
    hashes: list[str]
    names: list[str]
    timezones: list[str | None]
    attributes: list[str]
    """JSON object text."""
    lines: list[int]

    @classmethod
    def from_rows(cls, rows: list[StagedRow]) -> StagedColumns:
        if not rows:
            return cls([], [], [], [], [], [], [])
        return cls(*(list(column) for column in zip(*rows, strict=True)))

    def rows(self) -> list[StagedRow]:
        return list(zip(*self, strict=True))

    def extended(self, rows: list[StagedRow]) -> StagedColumns:
        """These columns with ``rows`` added at the end."""
        added = StagedColumns.from_rows(rows)
        pairs = zip(self, added, strict=True)
        return StagedColumns(
            *(cast(list[Any], mine) + cast(list[Any], theirs) for mine, theirs in pairs)
        )


@dataclass
class StagedBatch:
    columns: StagedColumns = field(default_factory=lambda: StagedColumns.from_rows([]))
    repeats: list[Repeat] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns.keys) + len(self.repeats)


def _merge(first: StagedRow, later: StagedRow) -> StagedRow:
    """The first row with a later duplicate folded in: non-empty fields win, attributes merge."""
    attributes = orjson.loads(first[_ATTRIBUTES])
    attributes.update(orjson.loads(later[_ATTRIBUTES]))
    key, email, hashed, name, timezone, _, line = first
    return (
        key,
        email,
        hashed,
        later[_NAME] or name,
        later[_TIMEZONE] or timezone,
        orjson.dumps(attributes).decode(),
        line,
    )


class BatchBuilder:
    """Collects staged rows; ``take()`` empties it into a :class:`StagedBatch`."""

    def __init__(self) -> None:
        self._first: dict[str, StagedRow] = {}
        self._repeats: list[Repeat] = []

    def add(self, row: StagedRow) -> None:
        key = row[_KEY]
        first = self._first.get(key)
        if first is None:
            self._first[key] = row
            return
        merged = _merge(first, row)
        self._first[key] = merged
        self._repeats.append(Repeat(key, row[_EMAIL], row[_LINE], merged != first))

    def add_rows(self, rows: list[StagedRow]) -> None:
        first = self._first
        for row in rows:
            if row[_KEY] in first:
                self.add(row)
            else:
                first[row[_KEY]] = row

    def add_incoming(self, row: IncomingSubscriber) -> None:
        self.add(staged_row(row.address, row.name, row.timezone, row.attributes, row.line))

    def take(self) -> StagedBatch:
        batch = StagedBatch(StagedColumns.from_rows(list(self._first.values())), self._repeats)
        self._first, self._repeats = {}, []
        return batch
