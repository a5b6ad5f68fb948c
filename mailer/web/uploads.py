"""A multipart/form-data upload read as it arrives, its one file written straight to where it
is kept (:class:`mailer.audience.import_files.UploadWriter`), never whole in memory or in a
temporary folder, and stopped at the size limit with nothing left behind.

The admin app and the REST API both take subscriber files this way. Text fields that come
before the file are known when the file begins, so the admin app checks its CSRF token there,
before a byte of the file is stored (browsers send fields in the order of the form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from mailer.audience.import_files import UploadTooLarge, UploadWriter

MAX_FIELDS = 20
MAX_FIELD_BYTES = 64 * 1024
# Room for the form's other fields and the multipart framing beyond the file's own limit.
FRAMING_BYTES = MAX_FIELDS * MAX_FIELD_BYTES


class UploadRefused(Exception):
    """The upload cannot be taken: ``status`` (400, 403, 413, 415) and why, naming
    ``field`` when one is to blame."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        self.status = status
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    file: UploadWriter | None = None
    file_name: str = ""
    file_complete: bool = False


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    is_file: bool = False
    text: bytearray = field(default_factory=bytearray)


class _Receiver:
    def __init__(
        self,
        file_field: str,
        start_file: Callable[[dict[str, str]], UploadWriter],
    ) -> None:
        self.file_field = file_field
        self.start_file = start_file
        self.upload = Upload()
        self.events: list[tuple[str, bytes]] = []
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        def data(kind: str) -> Callable[[bytes, int, int], None]:
            return lambda chunk, start, end: self.events.append((kind, chunk[start:end]))

        def mark(kind: str) -> Callable[[], None]:
            return lambda: self.events.append((kind, b""))

        return {
            "on_part_begin": mark("begin"),
            "on_part_data": data("data"),
            "on_part_end": mark("end"),
            "on_header_field": data("header_field"),
            "on_header_value": data("header_value"),
            "on_header_end": mark("header_end"),
            "on_headers_finished": mark("headers_done"),
        }

    def process(self) -> None:
        """Act on the events the last piece of the body gave (run in a worker thread: the
        file is written here)."""
        events, self.events = self.events, []
        for kind, data in events:
            getattr(self, f"_on_{kind}")(data)

    def _on_begin(self, _: bytes) -> None:
        self._part = _Part()
        self._header_name = self._header_value = b""

    def _on_header_field(self, data: bytes) -> None:
        self._header_name += data

    def _on_header_value(self, data: bytes) -> None:
        self._header_value += data

    def _on_header_end(self, _: bytes) -> None:
        self._part.headers[self._header_name.decode("latin-1").lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_done(self, _: bytes) -> None:
        disposition = self._part.headers.get("content-disposition", b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name")
        if name is None:
            raise UploadRefused(400, "a part of the form has no name")
        self._part.name = name.decode("utf-8", "replace")
        self._part.is_file = b"filename" in options
        if not self._part.is_file:
            if len(self.upload.fields) >= MAX_FIELDS:
                raise UploadRefused(400, f"the form has more than {MAX_FIELDS} fields")
            return
        if self._part.name != self.file_field or self.upload.file is not None:
            raise UploadRefused(400, f"send one file, as {self.file_field!r}", self._part.name)
        self.upload.file_name = options[b"filename"].decode("utf-8", "replace")
        self.upload.file = self.start_file(self.upload.fields)

    def _on_data(self, data: bytes) -> None:
        if self._part.is_file:
            assert self.upload.file is not None
            self.upload.file.write(data)
            return
        self._part.text += data
        if len(self._part.text) > MAX_FIELD_BYTES:
            raise UploadRefused(400, f"longer than {MAX_FIELD_BYTES} bytes", self._part.name)

    def _on_end(self, _: bytes) -> None:
        if self._part.is_file:
            assert self.upload.file is not None
            self.upload.file.finish()
            self.upload.file_complete = True
            return
        try:
            text = self._part.text.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRefused(400, "not valid UTF-8", self._part.name) from None
        self.upload.fields.setdefault(self._part.name, text)


async def receive_upload(
    request: Request,
    *,
    file_field: str,
    limit_bytes: int,
    start_file: Callable[[dict[str, str]], UploadWriter],
) -> Upload:
    """The form's text fields and its file (None if it sent none). ``start_file`` is called
    with the fields sent before the file, and may refuse (UploadRefused) before anything is
    stored. UploadRefused says why the upload was not taken; the partial file is deleted."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise UploadRefused(415, "send the file as multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadRefused(400, "the multipart/form-data has no boundary")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes + FRAMING_BYTES:
        raise UploadRefused(413, UploadTooLarge(limit_bytes).args[0], file_field)
    receiver = _Receiver(file_field, start_file)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.events:
                await run_in_threadpool(receiver.process)
        parser.finalize()
        await run_in_threadpool(receiver.process)
        if receiver.upload.file is not None and not receiver.upload.file_complete:
            raise ClientDisconnect
    except BaseException as exc:
        if receiver.upload.file is not None:
            receiver.upload.file.discard()
        if isinstance(exc, UploadTooLarge):
            raise UploadRefused(413, str(exc), file_field) from None
        if isinstance(exc, FormParserError | ValueError):
            raise UploadRefused(400, "the multipart/form-data cannot be read") from None
        if isinstance(exc, ClientDisconnect):
            raise UploadRefused(400, "the upload stopped before its end") from None
        raise
    return receiver.upload
