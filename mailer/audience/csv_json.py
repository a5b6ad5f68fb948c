"""A CSV cell holding a JSON object of attributes, as listmonk exports them
(``{"city": "Paris", "plan": {"tier": 2}}``): each key becomes an attribute.

Keys follow the header's rules (``Home City`` is ``home_city``). Text stays text, ``tags``
may be a list, and any other value (a number, a nested object) is kept as its JSON text, so
nothing the file said is lost.
"""

from __future__ import annotations

import re

import orjson

from mailer.audience.attributes import (
    TAGS,
    AttributeValue,
    InvalidField,
    check_attribute_key,
    parse_tags,
)

_SPACES = re.compile(r"\s+")


def attribute_key(name: str) -> str:
    """A column or JSON name as an attribute name: runs of spaces become ``_``, lower-case;
    InvalidField when it still is not one."""
    return check_attribute_key(_SPACES.sub("_", name.strip()))


def _value(key: str, value: object) -> AttributeValue:
    if isinstance(value, str):
        return parse_tags(value) if key == TAGS else value.strip()
    if key == TAGS and isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return parse_tags(";".join(tag.replace(";", ",") for tag in value))
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def json_attributes(cell: str) -> dict[str, AttributeValue]:
    """The attributes of one cell (none for an empty one), or InvalidField saying why not."""
    text = cell.strip()
    if not text:
        return {}
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidField("the attributes cell is not JSON") from None
    if not isinstance(found, dict):
        raise InvalidField("the attributes cell is not a JSON object")
    attributes: dict[str, AttributeValue] = {}
    for name, value in found.items():
        try:
            key = attribute_key(name)
        except InvalidField as exc:
            raise InvalidField(f"the attributes cell: {exc}") from None
        stored = _value(key, value)
        if stored:  # like an empty cell, an empty value leaves a stored one alone
            attributes[key] = stored
    return attributes
