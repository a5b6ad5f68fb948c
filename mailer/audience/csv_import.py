"""Streaming CSV import: every valid row is imported, every other row is reported by line.

A child process reads and checks the file (:mod:`mailer.audience.csv_chunks`) while this process
writes the batches it sends, one transaction each. A killed import therefore leaves whole
batches behind, and running it again finishes the job (rows already in are "unchanged"). Memory
stays flat: only a batch or two are held at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO

import sqlalchemy as sa

from mailer.audience.csv_chunks import ParsedChunk, read_chunks
from mailer.audience.csv_mapping import ColumnMapping
from mailer.audience.csv_reading import CsvReading
from mailer.audience.csv_rows import RowProblem
from mailer.audience.lists import MailingList, find_list
from mailer.audience.upsert import BatchResult, Outcome, apply_staged
from mailer.child_process import produced_in_child
from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction

__all__ = ["BATCH_SIZE", "ImportSummary", "RowProblem", "import_csv"]

# Big enough that per-statement costs vanish, small enough that a batch is quick to redo.
BATCH_SIZE = 10_000

ProblemHandler = Callable[[RowProblem], None]
ProgressHandler = Callable[[int], None]


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


def _write_chunk(
    engine: sa.Engine,
    mailing_list: MailingList,
    chunk: ParsedChunk,
    *,
    confirmed: bool,
    source: str,
    clock: Clock,
) -> BatchResult:
    for attempt in range(2):
        try:
            with write_transaction(engine) as connection:
                return apply_staged(
                    connection,
                    mailing_list,
                    chunk.batch,
                    confirmed=confirmed,
                    source=source,
                    now=clock(),
                )
        except sa.exc.IntegrityError:
            # Someone else (a sign-up, another import) added one of these addresses between
            # our read and our write; a second pass sees their row and updates it instead.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _problems(chunk: ParsedChunk, result: BatchResult) -> list[RowProblem]:
    problems = list(chunk.rejected)
    for row in result.exceptions:
        if row.outcome is Outcome.UNSUBSCRIBED:
            reason = "unsubscribed from this list; not resubscribed"
            problems.append(RowProblem(row.line, row.email, "unsubscribed", reason))
        elif row.outcome is Outcome.SUPPRESSED:
            reason = f"suppressed ({row.detail}); not subscribed"
            problems.append(RowProblem(row.line, row.email, "suppressed", reason))
    return sorted(problems, key=lambda problem: problem.line)


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
    file_label: str | None = None,
    mapping: ColumnMapping | None = None,
    summary: ImportSummary | None = None,
    reading: CsvReading | None = None,
) -> ImportSummary:
    """Import a CSV (header row with an ``email`` column) into a list; see the module doc.
    ``source`` is recorded on new memberships; errors in the file name ``file_label``.
    ``mapping`` (see :mod:`mailer.audience.csv_mapping`) reads the columns by position
    instead of by the header row's names. The counts go into ``summary`` when given (so
    ``on_progress`` can read them as they grow). ``reading`` names the delimiter, the
    encoding and columns chosen by name (see :mod:`mailer.audience.csv_reading`)."""
    with engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
    summary = ImportSummary() if summary is None else summary
    label = source if file_label is None else file_label
    chunks = produced_in_child(partial(read_chunks, stream, label, batch_size, mapping, reading))
    for chunk in chunks:
        result = _write_chunk(
            engine, mailing_list, chunk, confirmed=confirmed, source=source, clock=clock
        )
        summary.rows += chunk.rows
        summary.counts["rejected"] += len(chunk.rejected)
        for outcome, count in result.counts.items():
            key = "suppressed" if outcome is Outcome.UNSUBSCRIBED else outcome.value
            summary.counts[key] += count
        if on_problem is not None:
            for problem in _problems(chunk, result):
                on_problem(problem)
        if on_progress is not None:
            on_progress(chunk.bytes_read)
    return summary
