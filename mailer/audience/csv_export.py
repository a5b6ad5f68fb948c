"""CSV export of a list that `subscribers import` reads back to the same data.

A million members are written a batch at a time: rows come straight from the driver and are
assembled by C-level maps, attribute cells are formatted (and neutralized) once per distinct
attributes value (they repeat a lot: countries, tag sets), and one search per fixed column finds
a batch whose cells need formula neutralization, so only such a batch pays for it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any, TextIO

import orjson
import sqlalchemy as sa

from mailer.audience.attributes import RESERVED_KEYS, folded_attributes, format_attribute
from mailer.audience.csv_cells import ESCAPED_STARTS, neutralize
from mailer.audience.lists import find_list
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import parse_segment
from mailer.db.bulk import fetch_batches
from mailer.db.tables import MEMBERSHIP_STATUSES, memberships, subscribers
from mailer.errors import MailerError

FIXED_COLUMNS = ("email", "name", "timezone")
_BATCH = 10_000
# Positions in a fetched row: the fixed cells, then the attributes JSON text.
_FIXED = itemgetter(0, 1, 2)
_FIXED_CELLS = tuple(map(itemgetter, range(len(FIXED_COLUMNS))))
_ATTRIBUTES = itemgetter(3)
# A cell starting with a formula character, found in a whole column joined by "\n" at once (a
# cell with a line break inside may give a false alarm: neutralize then checks each cell).
# Leading with the literal "\n" lets the search skip ahead instead of trying every position.
_ESCAPE_NEEDED = re.compile("\n[" + re.escape("".join(ESCAPED_STARTS)) + "]")


def _attribute_keys(connection: sa.Connection, members: sa.Select[tuple[int]]) -> list[str]:
    """Every attribute name any exported member has, for the header row."""
    # Distinct attribute texts are few (countries, tag sets), so their keys are read in Python.
    texts = (
        sa.select(sa.cast(subscribers.c.attributes, sa.Text))
        .where(subscribers.c.id.in_(members))
        .distinct()
    )
    keys: set[str] = set()
    for text in connection.execute(texts).scalars():
        keys.update(map(str.lower, orjson.loads(text)))
    # An attribute stored as "Name" before names were case-insensitive would give a second
    # "name" column, which no import could read: the field of that name is the one exported.
    return sorted(keys - RESERVED_KEYS)


class _AttributeCells(dict[str, tuple[str, ...]]):
    """Attributes JSON text -> its neutralized cells in ``keys`` order, worked out once per text."""

    def __init__(self, keys: Sequence[str]) -> None:
        super().__init__()
        self.attribute_keys = keys

    def __missing__(self, text: str) -> tuple[str, ...]:
        values = folded_attributes(orjson.loads(text))
        cells = tuple(neutralize(format_attribute(values.get(key))) for key in self.attribute_keys)
        self[text] = cells
        return cells


def _needs_escaping(batch: list[tuple[Any, ...]]) -> bool:
    return any(_ESCAPE_NEEDED.search("\n" + "\n".join(map(cell, batch))) for cell in _FIXED_CELLS)


def _csv_rows(batch: list[tuple[Any, ...]], cells: _AttributeCells) -> Iterable[tuple[str, ...]]:
    if _needs_escaping(batch):  # rare: some fixed cell would run as a formula
        return [tuple(map(neutralize, _FIXED(row))) + cells[_ATTRIBUTES(row)] for row in batch]
    return map(tuple.__add__, map(_FIXED, batch), map(cells.__getitem__, map(_ATTRIBUTES, batch)))


def export_csv(
    engine: sa.Engine,
    list_name: str,
    out: TextIO,
    *,
    status: str | None = None,
    segment: str | None = None,
) -> int:
    """Write the list's members (of one status, and in a segment, if given) as CSV, in the
    order they were first stored; returns how many."""
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise MailerError(f"--status {status!r}: use one of {', '.join(MEMBERSHIP_STATUSES)}")
    in_segment = segment_clause(parse_segment(segment), engine.dialect.name) if segment else None
    with engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
        members = sa.select(memberships.c.subscriber_id).where(
            memberships.c.list_id == mailing_list.id
        )
        if status is not None:
            members = members.where(memberships.c.status == status)
        if in_segment is not None:
            members = members.join(
                subscribers, subscribers.c.id == memberships.c.subscriber_id
            ).where(in_segment)
        keys = _attribute_keys(connection, members)
        # "\r\n" rows (RFC 4180): minimal quoting then also quotes cells holding a lone "\r",
        # which a reader would otherwise take for the end of the row.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*FIXED_COLUMNS, *keys])
        # The driver's values as they are: JSON as text (cached by text), no NULL time zones.
        query = (
            sa.select(
                subscribers.c.email,
                subscribers.c.name,
                sa.func.coalesce(subscribers.c.timezone, ""),
                sa.cast(subscribers.c.attributes, sa.Text),
            )
            .join(memberships, memberships.c.subscriber_id == subscribers.c.id)
            .where(memberships.c.list_id == mailing_list.id)
            .order_by(memberships.c.subscriber_id)
        )
        if status is not None:
            query = query.where(memberships.c.status == status)
        if in_segment is not None:
            query = query.where(in_segment)
        count = 0
        for batch in fetch_batches(connection, query, _BATCH):
            # A new cache per batch keeps memory flat when most members' attributes differ.
            writer.writerows(_csv_rows(batch, _AttributeCells(keys)))
            count += len(batch)
    return count
