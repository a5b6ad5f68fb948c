"""How to read a subscriber file beyond its header row: the delimiter, the encoding and the
columns a person named, each checked as it is given."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mailer.audience.attributes import InvalidField
from mailer.audience.csv_headers import check_map_field
from mailer.errors import FieldError

#: The delimiters a file may use; the header line tells which (comma when it cannot).
DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass(frozen=True)
class CsvReading:
    delimiter: str | None = None
    """One of DELIMITERS; None: found from the header line."""
    encoding: str | None = None
    """None: UTF-8, where a row holding other bytes is rejected on its own. A codec name: the
    whole file must be in it, checked before any row is written when the file can be read
    twice (not a pipe)."""
    columns: Mapping[str, str] = field(default_factory=dict)
    """Header name -> field (see :func:`mailer.audience.csv_headers.check_map_field`)."""


def check_delimiter(given: str) -> str:
    delimiter = _DELIMITER_NAMES.get(given.lower(), given)
    if len(delimiter) != 1 or delimiter not in DELIMITERS:
        raise FieldError("delimiter", "use ',', ';', '|' or tab ('\\t')", given)
    return delimiter


def check_encoding(given: str) -> str:
    """The codec's name; refused when Python does not know it or when it does not write
    plain ASCII as itself (UTF-16, for one), which a CSV reader needs."""
    try:
        name = codecs.lookup(given).name
    except LookupError:
        raise FieldError(
            "encoding", "no such encoding (e.g. utf-8, latin-1, cp1252)", given
        ) from None
    sample = "email,name;\t|'\"\r\n"
    try:
        ascii_safe = sample.encode(name) == sample.encode("ascii")
    except (UnicodeError, LookupError):
        ascii_safe = False
    if not ascii_safe:
        raise FieldError("encoding", "only encodings that keep ASCII as it is are read", given)
    return name


def parse_column_map(pairs: Sequence[str]) -> dict[str, str]:
    """``COLUMN=FIELD`` pairs as a mapping; FieldError for ``map`` naming the bad pair."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip():
            raise FieldError("map", "write it as COLUMN=FIELD", pair)
        try:
            chosen[column.strip()] = check_map_field(target)
        except InvalidField as exc:
            raise FieldError("map", str(exc), pair) from None
    return chosen


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line, among DELIMITERS; a comma when no other is clear."""
    try:
        found = csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","
    return found if found in DELIMITERS else ","
