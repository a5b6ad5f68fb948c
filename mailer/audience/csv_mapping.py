"""Reading a subscriber CSV by a column mapping chosen by a person (the admin app, the API)
rather than by its header row's names: one target per column, by position, so a file whose
header row repeats a name, or names columns in another language, can still be imported.

A target is ``email``, ``name``, ``timezone``, ``attribute:<key>`` or ``""`` (the column is
ignored). Exactly one column is the email address; no other target may be chosen twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailer.audience.attributes import InvalidField, check_attribute_key
from mailer.audience.csv_cells import restore
from mailer.audience.csv_headers import KNOWN_NAMES, compact
from mailer.audience.csv_json import attribute_key
from mailer.audience.csv_rows import CsvHeader
from mailer.errors import FieldError, LocatedError

EMAIL, NAME, TIMEZONE, IGNORED = "email", "name", "timezone", ""
ATTRIBUTE_PREFIX = "attribute:"
FIXED_TARGETS = (EMAIL, NAME, TIMEZONE)
# More columns than any real subscriber file has; a mapping longer than this is refused.
MAX_COLUMNS = 500

ColumnMapping = tuple[str, ...]


def check_mapping(targets: Sequence[object]) -> ColumnMapping:
    """The mapping as stored (attribute keys lower-case), or a FieldError for ``mapping``
    saying which column is wrong: an unknown target, a bad attribute name, a target chosen
    twice, no email column."""
    if not 1 <= len(targets) <= MAX_COLUMNS:
        raise FieldError("mapping", f"give one target per column, 1 to {MAX_COLUMNS} of them")
    checked: list[str] = []
    for index, target in enumerate(targets):
        column = f"column {index + 1}"
        if not isinstance(target, str):
            raise FieldError("mapping", f"{column}: a target is a string")
        if target.startswith(ATTRIBUTE_PREFIX):
            try:
                key = check_attribute_key(target[len(ATTRIBUTE_PREFIX) :])
            except InvalidField as exc:
                raise FieldError("mapping", f"{column}: {exc}") from None
            target = ATTRIBUTE_PREFIX + key
        elif target not in (*FIXED_TARGETS, IGNORED):
            raise FieldError(
                "mapping",
                f'{column}: use email, name, timezone, attribute:<name> or "" (ignored)',
                target[:60],
            )
        if target != IGNORED and target in checked:
            first = checked.index(target) + 1
            raise FieldError("mapping", f"{column}: {target!r} is already column {first}'s")
        checked.append(target)
    if EMAIL not in checked:
        raise FieldError("mapping", "no column is the email address")
    return tuple(checked)


def guessed_mapping(header: Sequence[str]) -> ColumnMapping:
    """What the header row's names suggest: the fixed fields by name, any other valid name as
    an attribute, the rest (and repeats) ignored. A start for a person to correct."""
    guessed: list[str] = []
    for cell in header:
        name = restore(cell).strip()
        # The spellings an import by header names knows (Email Address, E-mail, tz...).
        known = KNOWN_NAMES.get(compact(name))
        if known in FIXED_TARGETS:
            target = str(known)
        else:
            try:
                target = ATTRIBUTE_PREFIX + attribute_key(name)
            except InvalidField:
                target = IGNORED
        guessed.append(IGNORED if target in guessed else target)
    return tuple(guessed)


def mapped_header(cells: list[str], mapping: ColumnMapping, source: str, line: int) -> CsvHeader:
    """Where each field is in a file whose header row is ``cells``, by ``mapping``."""
    if len(cells) != len(mapping):
        raise LocatedError(
            source,
            line,
            f"the header row has {len(cells)} columns, but the mapping gives {len(mapping)}",
        )
    return CsvHeader(
        email=mapping.index(EMAIL),
        name=mapping.index(NAME) if NAME in mapping else None,
        timezone=mapping.index(TIMEZONE) if TIMEZONE in mapping else None,
        attributes=tuple(
            (index, target[len(ATTRIBUTE_PREFIX) :])
            for index, target in enumerate(mapping)
            if target.startswith(ATTRIBUTE_PREFIX)
        ),
        width=len(cells),
    )
