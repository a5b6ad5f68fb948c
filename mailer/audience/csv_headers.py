"""What a header row's names mean, for files made by people and by the tools they leave.

Names are compared ignoring case, spaces, ``_``, ``-`` and ``.``, so ``Email Address``,
``email_address`` and ``E-mail`` are one name. Besides ``email``, ``name`` and ``timezone``:

- Mailchimp's export: ``Email Address``, ``First Name`` and ``Last Name`` (joined into the
  name); its other columns (``Phone Number``, ``MEMBER_RATING``, ``OPTIN_TIME``...) are kept
  as attributes (``phone_number``...). A filled ``UNSUB_TIME`` or ``CLEAN_TIME`` (the export
  of unsubscribed or cleaned members) keeps the row out.
- listmonk's export (``uuid,email,name,attributes,status,created_at,updated_at``): the
  ``attributes`` JSON object becomes attributes, a ``blocklisted`` or ``disabled`` status keeps
  the row out,
  ``uuid``, ``created_at`` and ``updated_at`` are listmonk's own and are ignored.
- Common spellings: ``mail``, ``firstname``, ``Given name``, ``surname``, ``Full name``...

A person's choice (``--map COLUMN=FIELD``) comes before all of this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mailer.audience.attributes import InvalidField
from mailer.audience.csv_cells import restore
from mailer.audience.csv_json import attribute_key
from mailer.audience.csv_rows import CsvHeader, Refusal
from mailer.errors import LocatedError

EMAIL, NAME, FIRST_NAME, LAST_NAME, TIMEZONE = (
    "email",
    "name",
    "first_name",
    "last_name",
    "timezone",
)
IGNORED = ""
JSON_ATTRIBUTES = "json"
ATTRIBUTE_PREFIX = "attribute:"
#: Fields a column can be mapped to, besides ``attribute:<name>`` and nothing (ignored).
MAP_FIELDS = (EMAIL, NAME, FIRST_NAME, LAST_NAME, TIMEZONE, "tags")
_SAID = {
    EMAIL: "the email address",
    NAME: "the name",
    FIRST_NAME: "the first name",
    LAST_NAME: "the last name",
    TIMEZONE: "the time zone",
    JSON_ATTRIBUTES: "the attributes object",
}

_NOT_COMPARED = re.compile(r"[\s_.\-]+")


def compact(name: str) -> str:
    """A header name as compared: lower-case, without spaces, ``_``, ``-`` or ``.``."""
    return _NOT_COMPARED.sub("", name).lower()


_SPELLINGS = {
    EMAIL: ("email", "emailaddress", "mail", "mailaddress", "emailaddr"),
    NAME: ("name", "fullname", "displayname"),
    FIRST_NAME: ("firstname", "givenname", "forename", "fname"),
    LAST_NAME: ("lastname", "surname", "familyname", "lname"),
    TIMEZONE: ("timezone", "tz"),
}
KNOWN_NAMES = {spelling: field for field, spellings in _SPELLINGS.items() for spelling in spellings}
_MAILCHIMP_REFUSALS = {
    "unsubtime": "unsubscribed in the tool it was exported from",
    "cleantime": "cleaned (the address bounced) in the tool it was exported from",
}
_LISTMONK_OWN = ("uuid", "createdat", "updatedat")
# listmonk mails neither (an ``--map status=`` takes them in all the same).
_LISTMONK_BLOCKED = frozenset({"blocklisted", "disabled"})


def check_map_field(field: str) -> str:
    """A ``--map`` field as used here, or InvalidField naming the ones that exist."""
    chosen = field.strip()
    if chosen.lower() in (*MAP_FIELDS, IGNORED, "ignore"):
        low = chosen.lower()
        if low == "tags":
            return ATTRIBUTE_PREFIX + "tags"
        return IGNORED if low == "ignore" else low
    if chosen.startswith(ATTRIBUTE_PREFIX):
        return ATTRIBUTE_PREFIX + attribute_key(chosen[len(ATTRIBUTE_PREFIX) :])
    raise InvalidField(
        f"no field {chosen!r}: use {', '.join(MAP_FIELDS)}, attribute:<name>, or nothing "
        "(COLUMN=) to ignore the column"
    )


def _guessed(name: str, listmonk: bool) -> str | Refusal:
    """What a column is by its name alone; InvalidField for a name that cannot be an
    attribute."""
    low = compact(name)
    if not name:
        return IGNORED
    if listmonk and low in _LISTMONK_OWN:
        return IGNORED
    if listmonk and low == "attributes":
        return JSON_ATTRIBUTES
    if listmonk and low == "status":
        return Refusal(name, "not mailed in the tool it was exported from", _LISTMONK_BLOCKED)
    if low in _MAILCHIMP_REFUSALS:
        return Refusal(name, _MAILCHIMP_REFUSALS[low])
    if low in KNOWN_NAMES:
        return KNOWN_NAMES[low]
    return ATTRIBUTE_PREFIX + attribute_key(name)


def _shown(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names) or "none"


def _chosen_columns(
    names: list[str], chosen: Mapping[str, str], source: str, line: int
) -> dict[int, str]:
    compacts = [compact(name) for name in names]
    by_position: dict[int, str] = {}
    for column, field in chosen.items():
        wanted = compact(column)
        if wanted not in compacts:
            raise LocatedError(
                source,
                line,
                f"--map {column!r}: the header row has no such column (columns: {_shown(names)})",
            )
        by_position[compacts.index(wanted)] = field
    return by_position


def read_header(
    cells: list[str], source: str, line: int = 1, chosen: Mapping[str, str] | None = None
) -> CsvHeader:
    """Where each field is; ``chosen`` maps column names to fields (see check_map_field)."""
    names = [restore(cell).strip() for cell in cells]
    listmonk = {"uuid", "attributes", EMAIL} <= {compact(name) for name in names}
    mapped = _chosen_columns(names, chosen or {}, source, line)
    seen: dict[str, int] = {}
    fields: dict[str, int] = {}
    attributes: list[tuple[int, str]] = []
    refusals: list[tuple[int, Refusal]] = []
    for index, name in enumerate(names):
        if name and index not in mapped:
            low = name.lower()
            if low in seen:
                raise LocatedError(source, line, f"column {name!r} appears twice in the header row")
            seen[low] = index
        try:
            meaning = mapped[index] if index in mapped else _guessed(name, listmonk)
        except InvalidField as exc:
            raise LocatedError(
                source,
                line,
                f"column {index + 1}: {exc}; or map it with --map '{name}=FIELD' "
                f"(--map '{name}=' ignores it)",
            ) from None
        if isinstance(meaning, Refusal):
            refusals.append((index, meaning))
        elif meaning.startswith(ATTRIBUTE_PREFIX):
            key = meaning[len(ATTRIBUTE_PREFIX) :]
            taken = next((at for at, other in attributes if other == key), None)
            if taken is not None:
                raise LocatedError(
                    source,
                    line,
                    f"columns {names[taken]!r} and {name!r} are both the attribute {key!r}",
                )
            attributes.append((index, key))
        elif meaning != IGNORED:
            if meaning in fields:
                raise LocatedError(
                    source,
                    line,
                    f"columns {names[fields[meaning]]!r} and {name!r} are both "
                    f"{_SAID[meaning]} (--map one of them to something else, or = to ignore it)",
                )
            fields[meaning] = index
    if EMAIL not in fields:
        raise LocatedError(
            source,
            line,
            f"the header row has no 'email' column (columns: {_shown(names)}); name one "
            "with --map COLUMN=email",
        )
    return CsvHeader(
        email=fields[EMAIL],
        name=fields.get(NAME),
        timezone=fields.get(TIMEZONE),
        attributes=tuple(attributes),
        width=len(names),
        name_parts=()
        if NAME in fields
        else tuple(fields[part] for part in (FIRST_NAME, LAST_NAME) if part in fields),
        json_attributes=fields.get(JSON_ATTRIBUTES),
        refusals=tuple(refusals),
    )
