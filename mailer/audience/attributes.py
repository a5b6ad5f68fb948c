"""Subscriber fields other than the address: name, time zone and free-form attributes.

Attribute names are case-insensitive, like the CSV header they come from: they are stored
lower-case, so ``City`` in one file, ``city`` in another and ``--attr CITY=...`` are one
attribute, and an export never has two columns that differ only in case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from mailer.errors import MailerError

ATTRIBUTE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
#: Columns of their own, so never stored as attributes.
RESERVED_KEYS = frozenset({"email", "name", "timezone"})
#: The one attribute that is a list: ``ai;policy`` in a CSV cell, ["ai", "policy"] stored.
TAGS = "tags"
NAME_MAX = 200

AttributeValue = str | list[str]


class InvalidField(MailerError):
    """A name, time zone or attribute that cannot be stored; ``str()`` says why."""


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if value not in known_timezones():
        raise InvalidField(f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)")
    return value


# No database stores a NUL, and PostgreSQL refuses text that is not valid Unicode (a lone
# surrogate, which only a careless decoder or a hostile form can produce).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_name(value: str) -> str:
    if UNSTORABLE.search(value):
        raise InvalidField("name holds a character that is not text")
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise InvalidField(f"name is longer than {NAME_MAX} characters")
    return value


def check_attribute_key(key: str) -> str:
    """The attribute name as stored: lower-case."""
    key = key.strip()
    if not ATTRIBUTE_KEY.fullmatch(key) or key.lower() in RESERVED_KEYS:
        raise InvalidField(
            f"attribute name {key!r}: use letters, digits, '_', '.' or '-', starting with a "
            "letter or '_' (email, name and timezone are fields of their own)"
        )
    return key.lower()


def _unquoted(tag: str) -> str:
    # Mailchimp writes tags quoted: "ai","policy".
    return tag[1:-1].strip() if len(tag) > 1 and tag[0] == tag[-1] == '"' else tag


def parse_tags(raw: str) -> list[str]:
    """``ai; policy``, ``ai,policy`` or ``"ai","policy"`` -> ["ai", "policy"], in order,
    without repeats."""
    if ";" not in raw and "," not in raw:  # one tag (or none): the common case, made cheap
        tag = _unquoted(raw.strip())
        return [tag] if tag else []
    tags = (_unquoted(tag.strip()) for tag in raw.replace(",", ";").split(";"))
    return list(dict.fromkeys(tag for tag in tags if tag))


def attribute_value(key: str, raw: str) -> AttributeValue:
    return parse_tags(raw) if key == TAGS else raw.strip()


def folded_attributes(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored attributes with lower-case names. Databases written before names were
    case-insensitive may hold ``City`` beside ``city``: the lower-case one wins."""
    if not stored or "".join(stored).islower():  # the usual case, checked at C speed
        return dict(stored)
    folded = {key.lower(): value for key, value in stored.items() if not key.islower()}
    folded.update((key, value) for key, value in stored.items() if key.islower())
    return folded


def format_attribute(value: object) -> str:
    """The CSV cell for a stored value (the inverse of attribute_value)."""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return "" if value is None else str(value)
