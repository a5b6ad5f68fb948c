"""Loading many plain rows at driver speed, for imports of millions of rows.

SQLAlchemy's executemany builds and type-processes a parameter dictionary per row, which would
be most of the time of a large import. The rows here are already database-ready tuples (text,
numbers, NULL), so they go straight to sqlite3's executemany (a C loop) or PostgreSQL's COPY.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa


def load_rows(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT ``rows`` (sequences in ``columns`` order) into the table named ``table``."""
    preparer = connection.dialect.identifier_preparer
    name = preparer.quote(table)
    quoted = ", ".join(preparer.quote(column) for column in columns)
    if connection.dialect.name == "postgresql":
        driver_connection = connection.connection.driver_connection
        assert driver_connection is not None
        with (
            driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({placeholders})", rows)
    finally:
        cursor.close()
