"""Whether a file is in the encoding it is read as, and where it stops being so.

A file saved by Excel or an old tool in Latin-1 or Windows-1252 is not UTF-8: read as
UTF-8, every row with an accent would be rejected. When an encoding is named, the file must
decode in it: the first byte that does not stops the import, at its line and byte, before any
row is written when the file can be read twice.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

from mailer.errors import LocatedError

_BLOCK = 1 << 20


class NotDecodable(LocatedError):
    """The file holds bytes that are not in the encoding it is read as."""


class Undecodable(Exception):
    """Raised from inside a read; turned into NotDecodable where the file's name is known."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def encoding_label(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(name, name)


class DecodeCheck:
    """Bytes fed in order through a decoder, counting lines (line feeds) and bytes."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._offset = 0
        self._line = 1

    def feed(self, data: bytes, *, final: bool = False) -> None:
        """Undecodable at the first byte that cannot be decoded."""
        pending = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # exc.start counts from the bytes left over from the last block, then ``data``.
            at = max(exc.start - pending, 0)
            line = self._line + data.count(b"\n", 0, at)
            offset = self._offset - pending + exc.start
            label = encoding_label(self.encoding)
            if final and exc.end >= len(exc.object):
                said = f"the file ends inside a {label} character"
            else:
                byte = exc.object[exc.start]
                said = f"byte {offset + 1:,} of the file (0x{byte:02X}) is not {label}"
            raise Undecodable(line, said) from None
        self._offset += len(data)
        self._line += data.count(b"\n")


def check_whole_file(stream: BinaryIO, encoding: str, source: str) -> None:
    """Read the seekable ``stream`` through, then go back to where it was; NotDecodable at
    the first byte that is not in ``encoding``."""
    start = stream.tell()
    check = DecodeCheck(encoding)
    try:
        while data := stream.read(_BLOCK):
            check.feed(data)
        check.feed(b"", final=True)
    except Undecodable as exc:
        raise NotDecodable(source, exc.line, exc.message) from None
    finally:
        stream.seek(start)
