"""Subscriber fields other than the address: name, time zone and free-form attributes."""

from __future__ import annotations

import re
from functools import cache
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


def check_name(value: str) -> str:
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise InvalidField(f"name is longer than {NAME_MAX} characters")
    return value


def check_attribute_key(key: str) -> str:
    key = key.strip()
    if not ATTRIBUTE_KEY.fullmatch(key) or key in RESERVED_KEYS:
        raise InvalidField(
            f"attribute name {key!r}: use letters, digits, '_', '.' or '-', starting with a "
            "letter or '_' (email, name and timezone are fields of their own)"
        )
    return key


def parse_tags(raw: str) -> list[str]:
    """``ai; policy`` or ``ai,policy`` -> ["ai", "policy"], in order, without repeats."""
    if ";" not in raw and "," not in raw:  # one tag (or none): the common case, made cheap
        tag = raw.strip()
        return [tag] if tag else []
    tags = (tag.strip() for tag in raw.replace(",", ";").split(";"))
    return list(dict.fromkeys(tag for tag in tags if tag))


def attribute_value(key: str, raw: str) -> AttributeValue:
    return parse_tags(raw) if key == TAGS else raw.strip()


def format_attribute(value: object) -> str:
    """The CSV cell for a stored value (the inverse of attribute_value)."""
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return "" if value is None else str(value)
