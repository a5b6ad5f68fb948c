"""Streaming CSV import: every valid row is imported, every other row is reported by line.

The file is read once, in batches; each batch is one transaction, so a killed import leaves
whole batches behind and running it again finishes the job (rows already in are "unchanged").
Memory stays flat: nothing but the current batch is held.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import sqlalchemy as sa

from mailer.audience.addresses import InvalidAddress, normalize_address
from mailer.audience.attributes import (
    InvalidField,
    attribute_value,
    check_attribute_key,
    check_name,
    check_timezone,
)
from mailer.audience.csv_cells import restore
from mailer.audience.lists import MailingList, find_list
from mailer.audience.upsert import IncomingSubscriber, Outcome, RowOutcome, apply_batch
from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.errors import LocatedError

BATCH_SIZE = 2000
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
class ImportSummary:
    rows: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("imported", "updated", "unchanged", "rejected", "suppressed"), 0
        )
    )

    def as_json(self) -> dict[str, object]:
        return {"rows": self.rows, **self.counts}


ProblemHandler = Callable[[RowProblem], None]
ProgressHandler = Callable[[int], None]


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


def _check_storable(cells: list[str]) -> None:
    for cell in cells:
        found = _UNSTORABLE.search(cell)
        if found is not None:
            raise InvalidField("not valid UTF-8" if found[0] != "\x00" else "holds a NUL byte")


def _parse_row(header: _Header, cells: list[str], line: int) -> IncomingSubscriber:
    _check_storable(cells)
    if len(cells) > header.width:
        raise InvalidField(f"{len(cells)} cells, but the header row has {header.width} columns")
    cells = [restore(cell) if cell[:1] == "'" else cell for cell in cells]
    cells += [""] * (header.width - len(cells))
    raw_email = cells[header.email].strip()
    if not raw_email:
        raise InvalidField("no email address")
    try:
        address = normalize_address(raw_email)
    except InvalidAddress as exc:
        raise InvalidField(f"invalid email address: {exc}") from None
    attributes = {}
    for index, key in header.attributes:
        if cells[index].strip():
            attributes[key] = attribute_value(key, cells[index])
    return IncomingSubscriber(
        address=address,
        name=check_name(cells[header.name]) if header.name is not None else "",
        timezone=check_timezone(cells[header.timezone]) if header.timezone is not None else None,
        attributes=attributes,
        line=line,
    )


def _records(text: io.TextIOBase) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells); a quoted cell may span several lines."""
    reader = csv.reader(text, strict=False)
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if cells and any(cell.strip() for cell in cells):
            yield start, cells


def import_csv(
    engine: sa.Engine,
    stream: BinaryIO,
    list_name: str,
    *,
    source: str,
    confirmed: bool = False,
    on_problem: ProblemHandler | None = None,
    on_progress: ProgressHandler | None = None,
    batch_size: int = BATCH_SIZE,
    clock: Clock = utc_now,
) -> ImportSummary:
    """Import a CSV (header row with an ``email`` column) into a list; see the module doc."""
    with engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
    counting = _CountingReader(stream)
    text = io.TextIOWrapper(
        io.BufferedReader(counting, 1 << 16),
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",
    )
    summary = ImportSummary()
    report = on_problem or (lambda problem: None)
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise LocatedError(source, 1, "the file is empty: a header row with 'email' is needed")
    header = _read_header(first[1], source)
    batch: list[IncomingSubscriber] = []
    for line, cells in records:
        summary.rows += 1
        try:
            batch.append(_parse_row(header, cells, line))
        except InvalidField as exc:
            email = cells[header.email].strip() if header.email < len(cells) else ""
            summary.counts["rejected"] += 1
            report(RowProblem(line, email, "rejected", str(exc)))
        if len(batch) >= batch_size:
            _flush(engine, mailing_list, batch, confirmed, source, clock, summary, report)
            batch = []
            if on_progress:
                on_progress(counting.count)
    _flush(engine, mailing_list, batch, confirmed, source, clock, summary, report)
    if on_progress:
        on_progress(counting.count)
    return summary


def _flush(
    engine: sa.Engine,
    mailing_list: MailingList,
    batch: list[IncomingSubscriber],
    confirmed: bool,
    source: str,
    clock: Clock,
    summary: ImportSummary,
    report: ProblemHandler,
) -> None:
    if not batch:
        return
    outcomes: list[RowOutcome] = []
    for attempt in range(2):
        try:
            with write_transaction(engine) as connection:
                outcomes = apply_batch(
                    connection,
                    mailing_list,
                    batch,
                    confirmed=confirmed,
                    source=source,
                    now=clock(),
                )
            break
        except sa.exc.IntegrityError:
            # Someone else (a sign-up, another import) added one of these addresses between
            # our read and our write; a second pass sees their row and updates it instead.
            if attempt:
                raise
    for result in outcomes:
        if result.outcome is Outcome.UNSUBSCRIBED:
            summary.counts["suppressed"] += 1
            report(
                RowProblem(
                    result.row.line,
                    result.row.address.email,
                    "unsubscribed",
                    "unsubscribed from this list; not resubscribed",
                )
            )
        elif result.outcome is Outcome.SUPPRESSED:
            summary.counts["suppressed"] += 1
            report(
                RowProblem(
                    result.row.line,
                    result.row.address.email,
                    "suppressed",
                    f"suppressed ({result.detail}); not subscribed",
                )
            )
        else:
            summary.counts[result.outcome.value] += 1
