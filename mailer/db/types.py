"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC: SQLite has no time zones to keep."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


#: JSON everywhere, JSONB on PostgreSQL so segments can use its containment operators.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: 64-bit ids on PostgreSQL; SQLite's rowid alias must be declared INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
