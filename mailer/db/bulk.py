"""Loading and reading many plain rows at driver speed, for imports and exports of millions.

SQLAlchemy's executemany builds and type-processes a parameter dictionary per row, and its
result rows are objects of their own; at a million rows either would be most of the time. The
rows here are database-ready tuples (text, numbers, NULL) both ways, so they go straight to
PostgreSQL's COPY and come back as the driver's tuples. (SQLite's batch writer uses the
driver's executemany, a C loop, in :mod:`mailer.audience.upsert_sqlite`.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa


def load_rows(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` (sequences in ``columns`` order) into the PostgreSQL table ``table``."""
    preparer = connection.dialect.identifier_preparer
    name = preparer.quote(table)
    quoted = ", ".join(preparer.quote(column) for column in columns)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def fetch_batches(
    connection: sa.Connection, query: sa.Select[Any], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``query`` as the driver returns them, ``size`` at a time: no type
    processing, so select columns whose driver values are already what is wanted."""
    compiled = query.compile(dialect=connection.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # qmark (SQLite) rather than named parameters
        params = tuple(params[name] for name in compiled.positiontup)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    # PostgreSQL sends a plain cursor's whole result at once; a named one streams it.
    named = {"name": "mailer_fetch"} if connection.dialect.name == "postgresql" else {}
    cursor = driver_connection.cursor(**named)
    try:
        cursor.execute(str(compiled), params)
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()
