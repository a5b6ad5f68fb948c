"""A list's CSV export as a stream of byte chunks, for an answer sent while it is written.

:func:`mailer.audience.csv_export.export_csv` writes to a file; here a thread runs it into a
small queue of chunks that the caller iterates, so a million members never sit in memory and
the first bytes leave at once. A caller that stops iterating (the client went away) stops
the export at its next write.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from typing import TextIO, cast

import sqlalchemy as sa

from mailer.audience.csv_export import export_csv
from mailer.audience.lists import check_list_name, find_list
from mailer.audience.segments import parse_segment
from mailer.db.tables import MEMBERSHIP_STATUSES
from mailer.errors import FieldError, MailerError

CHUNK_CHARS = 64 * 1024
_END = object()


class _Stopped(Exception):
    """The reader went away."""


class _ChunkWriter(io.TextIOBase):
    def __init__(self, chunks: queue.Queue[object], stop: threading.Event) -> None:
        self._chunks = chunks
        self._stop = stop
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= CHUNK_CHARS:
            self.send()
        return len(text)

    def send(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._size = [], 0
            _put(self._chunks, self._stop, data)


def _put(chunks: queue.Queue[object], stop: threading.Event, item: object) -> None:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            chunks.put(item, timeout=0.5)
            return
        except queue.Full:
            continue


def check_export(
    engine: sa.Engine, list_name: str, status: str | None, segment: str | None
) -> None:
    """A FieldError naming ``list``, ``status`` or ``segment`` when the export cannot be made:
    checked before the first byte is sent, since a stream cannot turn into an error later."""
    try:
        with engine.connect() as connection:
            find_list(connection, check_list_name(list_name))
    except MailerError as exc:
        raise FieldError("list", str(exc)) from None
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise FieldError("status", f"use one of {', '.join(MEMBERSHIP_STATUSES)}", status[:40])
    if segment:
        try:
            parse_segment(segment)
        except MailerError as exc:
            raise FieldError("segment", str(exc)) from None


def export_chunks(
    engine: sa.Engine, list_name: str, *, status: str | None, segment: str | None
) -> Iterator[bytes]:
    """The export's bytes (UTF-8), a chunk at a time; check it first with check_export."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def produce() -> None:
        writer = _ChunkWriter(chunks, stop)
        try:
            export_csv(engine, list_name, cast(TextIO, writer), status=status, segment=segment)
            writer.send()
            _put(chunks, stop, _END)
        except _Stopped:
            return
        except Exception as exc:  # handed to the reader, who raises it
            try:
                _put(chunks, stop, exc)
            except _Stopped:
                return

    thread = threading.Thread(target=produce, name="csv-export", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
