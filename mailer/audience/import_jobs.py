"""Imports started from the admin app or the REST API, each a row of ``imports``.

An upload is stored (:mod:`mailer.audience.import_files`) and recorded as ``uploaded``; once
its list and column mapping are chosen it is ``queued``, and a thread of the process that
took it (``mailer serve``) claims it (``running``) and imports it with
:func:`mailer.audience.csv_import.import_csv`, writing its counts and a heartbeat to the row
after every batch, so any process can show how far it got. It ends ``done`` or ``failed``.

Nothing restarts an import whose process died: its heartbeat stops, and after
:data:`STALE_AFTER` it shows as ``interrupted``. The rows written by then stay (each batch is
a transaction of its own); importing the same file again finishes the job.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.csv_cells import neutralize
from mailer.audience.csv_import import ImportSummary, RowProblem, import_csv
from mailer.audience.csv_mapping import ColumnMapping, check_mapping
from mailer.audience.import_files import rejects_name, remove_stored, stored_path
from mailer.audience.lists import check_list_name, find_list
from mailer.db.engine import write_transaction
from mailer.db.tables import imports
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError

log = logging.getLogger(__name__)

# Small batches: progress every few thousand rows, and a heartbeat every second or so.
BATCH_SIZE = 2_000
# A running import whose heartbeat is older than this lost its process.
STALE_AFTER = timedelta(minutes=5)
# An upload whose columns are not chosen within this long is forgotten.
UPLOAD_KEPT = timedelta(days=1)
FILE_NAME_MAX = 200
REJECTS_HEADER = ("line", "email", "outcome", "reason")
COUNTS = ("rows_read", "added", "updated", "unchanged", "rejected", "suppressed")
# What finishing calls in the transaction that marks the import done or failed (the audit).
Finished = Callable[[sa.Connection, "ImportRecord"], None]


@dataclass(frozen=True)
class ImportRecord:
    id: int
    actor: str
    list_name: str
    file_name: str
    stored_as: str
    size: int
    mapping: ColumnMapping | None
    confirmed: bool
    status: str
    bytes_read: int
    rows_read: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    suppressed: int
    rejects_file: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    def shown_status(self, now: datetime) -> str:
        """The status, or ``interrupted`` for one queued or running whose process died."""
        if self.status in ("queued", "running"):
            beat = self.heartbeat_at or self.created_at
            if now - beat > STALE_AFTER:
                return "interrupted"
        return self.status

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(99, self.bytes_read * 100 // self.size) if self.size else 0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def as_json(self, now: datetime) -> dict[str, object]:
        def when(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat().replace("+00:00", "Z")

        return {
            "id": self.id,
            "status": self.shown_status(now),
            "list": self.list_name,
            "file_name": self.file_name,
            "size": self.size,
            "mapping": None if self.mapping is None else list(self.mapping),
            "confirmed": self.confirmed,
            "bytes_read": self.bytes_read,
            **self.counts(),
            "error": self.error,
            "created_by": self.actor,
            "created_at": when(self.created_at),
            "started_at": when(self.started_at),
            "finished_at": when(self.finished_at),
        }


def _record(row: sa.Row[Any]) -> ImportRecord:
    values = dict(row._mapping)
    mapping = values.pop("mapping")
    return ImportRecord(mapping=None if mapping is None else tuple(mapping), **values)


def shown_file_name(name: str) -> str:
    """The uploader's file name as kept: its last part, without control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(char for char in name if char.isprintable()).strip()
    return cleaned[:FILE_NAME_MAX] or "upload.csv"


def record_upload(
    connection: sa.Connection,
    *,
    actor: str,
    list_name: str,
    file_name: str,
    stored_as: str,
    size: int,
    now: datetime,
) -> int:
    """A new import of a stored file, waiting for its list and mapping; its id."""
    inserted = connection.execute(
        imports.insert().values(
            actor=actor,
            list_name=list_name,
            file_name=shown_file_name(file_name),
            stored_as=stored_as,
            size=size,
            confirmed=False,
            status="uploaded",
            created_at=now,
        )
    )
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def find_import(connection: sa.Connection, import_id: int) -> ImportRecord:
    row = connection.execute(sa.select(imports).where(imports.c.id == import_id)).first()
    if row is None:
        raise NotFoundError(f"there is no import {import_id}")
    return _record(row)


def recent_imports(engine: sa.Engine, limit: int = 50) -> list[ImportRecord]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(imports).order_by(imports.c.id.desc()).limit(limit))
        return [_record(row) for row in rows]


def check_choice(
    connection: sa.Connection, list_name: str, mapping: Sequence[object]
) -> ColumnMapping:
    """The mapping as stored, or a FieldError for ``list`` (no such list) or ``mapping``."""
    try:
        find_list(connection, check_list_name(list_name))
    except MailerError as exc:  # a name no list may have, or no list of that name
        raise FieldError("list", str(exc)) from None
    return check_mapping(mapping)


def queue_import(
    connection: sa.Connection,
    import_id: int,
    *,
    list_name: str,
    mapping: ColumnMapping,
    confirmed: bool,
    now: datetime,
) -> ImportRecord:
    """Choose the list and the mapping of an uploaded import and queue it."""
    mapping = check_choice(connection, list_name, mapping)
    found = find_import(connection, import_id)
    if found.status != "uploaded":
        raise ConflictError(f"import {import_id} is {found.status}, not waiting for its columns")
    connection.execute(
        imports.update()
        .where(imports.c.id == import_id)
        .values(
            list_name=list_name,
            mapping=list(mapping),
            confirmed=confirmed,
            status="queued",
            heartbeat_at=now,
        )
    )
    return find_import(connection, import_id)


def forget_old_uploads(mailer: Mailer) -> int:
    """Mark uploads whose columns were never chosen as failed, and delete their files."""
    cutoff = mailer.clock() - UPLOAD_KEPT
    with write_transaction(mailer.engine) as connection:
        old = connection.execute(
            sa.select(imports.c.id, imports.c.stored_as).where(
                imports.c.status == "uploaded", imports.c.created_at < cutoff
            )
        ).all()
        for row in old:
            remove_stored(mailer.settings.paths.var, row.stored_as)
        if old:
            connection.execute(
                imports.update()
                .where(imports.c.id.in_([row.id for row in old]))
                .values(
                    status="failed",
                    error="its columns were never chosen",
                    finished_at=mailer.clock(),
                )
            )
    return len(old)


class _Rejects:
    """The CSV of rows not imported, made when the first one comes (cells neutralized: a
    spreadsheet opens it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._writer: Any = None

    def add(self, problem: RowProblem) -> None:
        if self._writer is None:
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self.path.chmod(0o600)
            self._writer = csv.writer(self._file, lineterminator="\r\n")
            self._writer.writerow(REJECTS_HEADER)
        cells = (str(problem.line), problem.email, problem.outcome, problem.reason)
        self._writer.writerow([neutralize(cell) for cell in cells])

    def close(self) -> bool:
        """Whether any row was written."""
        if self._file is None:
            return False
        self._file.close()
        return True


def _counts(summary: ImportSummary) -> dict[str, int]:
    counts = summary.counts
    return {
        "rows_read": summary.rows,
        "added": counts["imported"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "rejected": counts["rejected"],
        "suppressed": counts["suppressed"],
    }


def _claim(mailer: Mailer, import_id: int) -> ImportRecord | None:
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        claimed = connection.execute(
            imports.update()
            .where(imports.c.id == import_id, imports.c.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
        )
        return find_import(connection, import_id) if claimed.rowcount == 1 else None


def _finish(mailer: Mailer, import_id: int, finished: Finished, **values: Any) -> ImportRecord:
    with write_transaction(mailer.engine) as connection:
        connection.execute(
            imports.update()
            .where(imports.c.id == import_id)
            .values(finished_at=mailer.clock(), heartbeat_at=mailer.clock(), **values)
        )
        record = find_import(connection, import_id)
        finished(connection, record)
    return record


def run_import(mailer: Mailer, import_id: int, finished: Finished) -> ImportRecord | None:
    """Import a queued import (None when another thread has it already); ``finished`` is
    called in the transaction that marks it done or failed."""
    record = _claim(mailer, import_id)
    if record is None:
        return None
    assert record.mapping is not None
    var = mailer.settings.paths.var
    rejects_as = rejects_name(record.stored_as)
    rejects = _Rejects(stored_path(var, rejects_as))
    summary = ImportSummary()

    def progress(bytes_read: int) -> None:
        with write_transaction(mailer.engine) as connection:
            connection.execute(
                imports.update()
                .where(imports.c.id == import_id)
                .values(bytes_read=bytes_read, heartbeat_at=mailer.clock(), **_counts(summary))
            )

    try:
        with stored_path(var, record.stored_as).open("rb") as stream:
            import_csv(
                mailer.engine,
                stream,
                record.list_name,
                source=f"import:{record.file_name}",
                file_label=record.file_name,
                confirmed=record.confirmed,
                mapping=record.mapping,
                summary=summary,
                on_problem=rejects.add,
                on_progress=progress,
                batch_size=BATCH_SIZE,
                clock=mailer.clock,
            )
    except Exception as exc:
        if not isinstance(exc, MailerError):
            log.exception("import %s failed", import_id)
        error = str(exc) if isinstance(exc, MailerError) else f"an unexpected error: {exc!r}"
        kept = rejects.close()
        return _finish(
            mailer,
            import_id,
            finished,
            status="failed",
            error=error[:2000],
            rejects_file=rejects_as if kept else None,
            **_counts(summary),
        )
    finally:
        remove_stored(var, record.stored_as)  # its rows are in the database (or refused)
    kept = rejects.close()
    return _finish(
        mailer,
        import_id,
        finished,
        status="done",
        bytes_read=record.size,
        rejects_file=rejects_as if kept else None,
        **_counts(summary),
    )


def run_in_thread(mailer: Mailer, import_id: int, finished: Finished) -> threading.Thread:
    """Run the import in a thread of this process (see the module doc for when it dies)."""
    thread = threading.Thread(
        target=run_import, args=(mailer, import_id, finished), name=f"import-{import_id}"
    )
    thread.daemon = True
    thread.start()
    return thread


def check_import_id(value: int) -> int:
    if not 1 <= value <= 2**63 - 1:
        raise FieldError("id", "use an import's id", str(value)[:40])
    return value
