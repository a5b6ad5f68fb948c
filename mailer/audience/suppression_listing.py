"""Every suppression, one at a time: a listing that stays quick and small on a big table."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from mailer.audience.suppressions import Suppression, check_reason
from mailer.db.tables import suppressions

# Rows fetched from the database at a time: the listing never holds more than this.
_CHUNK = 2000


def iter_suppressions(engine: sa.Engine, reason: str | None = None) -> Iterator[Suppression]:
    """Suppressions by address, only those for ``reason`` when one is given; the erased ones
    (only a hash is left of their address) come last. Each query walks an index (the address
    key, then the hash) and is read in chunks, so the first rows come at once and memory
    stays flat however many there are. A reason that is none is refused at once."""
    if reason is not None:
        check_reason(reason)
    return _rows(engine, reason)


def _rows(engine: sa.Engine, reason: str | None) -> Iterator[Suppression]:
    keyed = suppressions.c.email_key.is_not(None)
    for where, order in (
        (keyed, suppressions.c.email_key),
        (sa.not_(keyed), suppressions.c.address_hash),
    ):
        query = sa.select(suppressions).where(where).order_by(order)
        if reason is not None:
            query = query.where(suppressions.c.reason == reason)
        with engine.connect() as connection:
            for row in connection.execution_options(yield_per=_CHUNK).execute(query):
                yield Suppression(row.email, row.reason, row.detail, row.created_at)
