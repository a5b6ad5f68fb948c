"""The stored name and attributes of readers a rendered file, a preview or a test copy is for:
an address that belongs to a subscriber shows what that subscriber's copy would."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import sqlalchemy as sa

from mailer.audience.addresses import Address
from mailer.audience.attributes import format_attribute
from mailer.db.tables import subscribers


class AnyCaseAttributes(Mapping[str, str]):
    """Attribute values by name in any case: names are stored lower-case, and
    ``{{ subscriber.attributes.City }}`` is the "city" attribute."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = {name.lower(): value for name, value in values.items()}

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class KnownReader:
    name: str
    attributes: Mapping[str, str]


NO_KNOWN_READERS: Mapping[str, KnownReader] = MappingProxyType({})


def known_readers(engine: sa.Engine, addresses: Iterable[Address]) -> dict[str, KnownReader]:
    """The subscribers among ``addresses``, by address key."""
    keys = sorted({address.key for address in addresses})
    if not keys:
        return {}
    query = sa.select(subscribers.c.email_key, subscribers.c.name, subscribers.c.attributes)
    with engine.connect() as connection:
        rows = connection.execute(query.where(subscribers.c.email_key.in_(keys))).all()
    return {
        row.email_key: KnownReader(
            row.name or "",
            AnyCaseAttributes(
                {name: format_attribute(value) for name, value in (row.attributes or {}).items()}
            ),
        )
        for row in rows
    }
