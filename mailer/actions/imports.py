"""Subscriber imports and exports on behalf of a principal, all with ``manage_audience``.

An upload is taken in two steps: :func:`begin_upload` checks the right before a byte is
stored and gives the writer, :func:`record_upload` keeps it (or refuses a file that is not
CSV). :func:`start_import` chooses the list and the columns and runs it in a thread of this
process; the audit log gets ``import.start`` then ``import.finish`` with the counts, and
``export.make`` for every export.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.app import Mailer
from mailer.audience import import_jobs
from mailer.audience.csv_export_stream import check_export, export_chunks
from mailer.audience.csv_mapping import ColumnMapping, guessed_mapping
from mailer.audience.import_files import UploadWriter, preview, remove_stored, stored_path
from mailer.audience.import_jobs import ImportRecord
from mailer.db.engine import write_transaction
from mailer.errors import MailerError, NotFoundError

MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadPreview:
    record: ImportRecord
    header: list[str]
    rows: list[list[str]]
    guessed: ColumnMapping


def upload_limit(mailer: Mailer) -> int:
    return mailer.settings.admin.max_upload_mib * MIB


def begin_upload(mailer: Mailer, principal: Principal) -> UploadWriter:
    principal.require(Permission.MANAGE_AUDIENCE)
    import_jobs.forget_old_uploads(mailer)
    return UploadWriter(mailer.settings.paths.var, upload_limit(mailer))


def record_upload(
    mailer: Mailer, principal: Principal, upload: UploadWriter, file_name: str, list_name: str = ""
) -> int:
    """Keep a finished upload as a new import (its id); a file that is not CSV is deleted
    and refused with a FieldError for ``file``."""
    principal.require(Permission.MANAGE_AUDIENCE)
    try:
        preview(upload.path)
    except MailerError:
        upload.discard()
        raise
    with write_transaction(mailer.engine) as connection:
        return import_jobs.record_upload(
            connection,
            actor=principal.actor,
            list_name=list_name[:100],
            file_name=file_name,
            stored_as=upload.stored_as,
            size=upload.size,
            now=mailer.clock(),
        )


def check_choice(
    mailer: Mailer, principal: Principal, list_name: str, mapping: Sequence[object]
) -> ColumnMapping:
    """The list and mapping an import would be started with, checked (FieldError)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    with mailer.engine.connect() as connection:
        return import_jobs.check_choice(connection, list_name, mapping)


def show_import(mailer: Mailer, principal: Principal, import_id: int) -> ImportRecord:
    principal.require(Permission.MANAGE_AUDIENCE)
    with mailer.engine.connect() as connection:
        return import_jobs.find_import(connection, import_jobs.check_import_id(import_id))


def recent_imports(mailer: Mailer, principal: Principal) -> list[ImportRecord]:
    principal.require(Permission.MANAGE_AUDIENCE)
    return import_jobs.recent_imports(mailer.engine)


def upload_preview(mailer: Mailer, principal: Principal, import_id: int) -> UploadPreview:
    """The first rows of an upload waiting for its columns, and the mapping its header
    suggests."""
    record = show_import(mailer, principal, import_id)
    if record.status != "uploaded":
        raise NotFoundError(f"import {import_id} is not waiting for its columns")
    header, rows = preview(stored_path(mailer.settings.paths.var, record.stored_as))
    return UploadPreview(record, header, rows, guessed_mapping(header))


def _finished(connection: sa.Connection, record: ImportRecord) -> None:
    detail: dict[str, object] = {"list": record.list_name, "status": record.status}
    detail |= record.counts()
    if record.error:
        detail["error"] = record.error
    audit.record(
        connection,
        record.actor,
        "import.finish",
        f"import:{record.id}",
        detail,
        record.finished_at or record.created_at,
    )


def start_import(
    mailer: Mailer,
    principal: Principal,
    import_id: int,
    *,
    list_name: str,
    mapping: ColumnMapping,
    confirmed: bool,
    run: bool = True,
) -> ImportRecord:
    """Queue the import with its list and columns and, with ``run``, start it in a thread of
    this process (without, the caller runs :func:`run_queued`)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        record = import_jobs.queue_import(
            connection,
            import_jobs.check_import_id(import_id),
            list_name=list_name,
            mapping=mapping,
            confirmed=confirmed,
            now=now,
        )
        detail = {
            "list": record.list_name,
            "file": record.file_name,
            "size": record.size,
            "mapping": list(mapping),
            "confirmed": confirmed,
        }
        audit.record(
            connection, principal.actor, "import.start", f"import:{record.id}", detail, now
        )
    if run:
        import_jobs.run_in_thread(mailer, record.id, _finished)
    return record


def run_queued(mailer: Mailer, import_id: int) -> ImportRecord | None:
    """Run a queued import here and now (what the thread does)."""
    return import_jobs.run_import(mailer, import_id, _finished)


def rejects_file(mailer: Mailer, principal: Principal, import_id: int) -> Path | None:
    """The CSV of an import's rows that were not imported; None when there were none."""
    record = show_import(mailer, principal, import_id)
    if not record.finished:
        raise NotFoundError(f"import {import_id} has not finished")
    if record.rejects_file is None:
        return None
    path = stored_path(mailer.settings.paths.var, record.rejects_file)
    return path if path.is_file() else None


def discard_upload(mailer: Mailer, upload: UploadWriter) -> None:
    """Forget an upload that was cut short (too large, the client went away)."""
    upload.discard()
    remove_stored(mailer.settings.paths.var, upload.stored_as)


def export(
    mailer: Mailer,
    principal: Principal,
    list_name: str,
    *,
    status: str | None = None,
    segment: str | None = None,
) -> Iterator[bytes]:
    """The list's CSV, a chunk at a time; checked (FieldError) and written to the audit log
    before the first chunk."""
    principal.require(Permission.MANAGE_AUDIENCE)
    check_export(mailer.engine, list_name, status, segment)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        detail = {"status": status, "segment": segment or None}
        audit.record(connection, principal.actor, "export.make", f"list:{list_name}", detail, now)
    return export_chunks(mailer.engine, list_name, status=status, segment=segment)
