"""Where uploaded subscriber files and their rejected rows are kept: ``<var>/imports``, a
folder only this user may open, each file under a random name (the name a person gave it is
only ever shown). An upload is written as it arrives and stops at its size limit, leaving
nothing behind."""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from mailer.audience.csv_reading import sniff_delimiter
from mailer.errors import FieldError, MailerError

FOLDER = "imports"
_STORED_NAME = re.compile(r"[0-9a-f]{32}(-rejects)?\.csv")
# How much of a file is read to show its first rows and to tell whether it is text at all.
PREVIEW_BYTES = 64 * 1024
PREVIEW_ROWS = 5


class UploadTooLarge(MailerError):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"the file is larger than {limit_bytes // (1024 * 1024)} MiB")


def imports_folder(var: Path) -> Path:
    folder = var / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is cut by the umask, and an older folder may be open
    return folder


def stored_path(var: Path, stored_as: str) -> Path:
    """The file of ``stored_as``; a name this module did not make is refused (no path in it)."""
    if not _STORED_NAME.fullmatch(stored_as):
        raise MailerError(f"{stored_as[:80]!r} is not the name of a stored import file")
    return imports_folder(var) / stored_as


def new_stored_name() -> str:
    return secrets.token_hex(16) + ".csv"


def rejects_name(stored_as: str) -> str:
    return stored_as.removesuffix(".csv") + "-rejects.csv"


def remove_stored(var: Path, stored_as: str | None) -> None:
    if stored_as:
        stored_path(var, stored_as).unlink(missing_ok=True)


class UploadWriter:
    """A new stored file, written a piece at a time; past ``limit_bytes`` it is deleted and
    :class:`UploadTooLarge` raised. Close it with :meth:`finish` (kept) or :meth:`discard`."""

    def __init__(self, var: Path, limit_bytes: int) -> None:
        self.stored_as = new_stored_name()
        self.path = stored_path(var, self.stored_as)
        self.limit_bytes = limit_bytes
        self.size = 0
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO = os.fdopen(descriptor, "wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit_bytes:
            self.discard()
            raise UploadTooLarge(self.limit_bytes)
        self._file.write(data)

    def finish(self) -> None:
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def preview(path: Path, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The header row and up to ``rows`` rows after it, for a person choosing the mapping; a
    FieldError for ``file`` when the file is empty or is not text."""
    with path.open("rb") as stored:
        start = stored.read(PREVIEW_BYTES)
    if not start.strip():
        raise FieldError("file", "the file is empty: a header row and rows are needed")
    if b"\x00" in start:
        raise FieldError("file", "this is not a CSV file (it holds binary data)")
    # The last line may be cut off; a broken character is shown as such, not refused: the
    # import rejects only the rows that hold one.
    text = start.decode("utf-8-sig", errors="replace")
    lines = text.splitlines(keepends=True)
    if len(start) == PREVIEW_BYTES and len(lines) > 1:
        lines = lines[:-1]
    # The delimiter is told from the header line, as the import tells it.
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = sniff_delimiter(header_line)
    try:
        read = [
            cells
            for cells in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
            if any(cells)
        ]
    except csv.Error as exc:
        raise FieldError("file", f"this cannot be read as CSV ({exc})") from None
    if not read:
        raise FieldError("file", "the file is empty: a header row and rows are needed")
    return read[0], read[1 : rows + 1]
