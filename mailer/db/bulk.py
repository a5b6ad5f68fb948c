"""Bulk inserts at driver speed, for imports of millions of rows.

SQLAlchemy's executemany builds and type-processes a parameter dictionary per row, which is most
of the time of a large import. Here each column's bind processor runs once per distinct value
(an import batch shares one timestamp), and the rows go to sqlite3's own executemany (a C loop)
or to PostgreSQL's COPY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

_UNSET = object()


def _process(values: list[Any], processor: Callable[[Any], Any] | None) -> list[Any]:
    if processor is None:
        return values
    processed: list[Any] = []
    last_in: Any = _UNSET
    last_out: Any = None
    for value in values:
        if value is not last_in:
            last_in, last_out = value, processor(value)
        processed.append(last_out)
    return processed


def _bind_processor(
    column_type: sa.types.TypeEngine[Any], dialect: sa.Dialect
) -> Callable[[Any], Any] | None:
    # The dialect's own implementation (SQLite's DATETIME formats a string, for instance).
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def bulk_insert(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    dialect = connection.dialect
    by_column = [
        _process([row[index] for row in rows], _bind_processor(table.c[name].type, dialect))
        for index, name in enumerate(columns)
    ]
    if dialect.name == "postgresql":
        _copy_rows(connection, table, columns, zip(*by_column, strict=True))
        return
    # SQLite's driver takes ? placeholders in the order the columns are listed.
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = [columns.index(name) for name in compiled.positiontup or ()]
    params = [tuple(values[i] for i in order) for values in zip(*by_column, strict=True)]
    connection.exec_driver_sql(str(compiled), params)


def _copy_rows(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Any]
) -> None:
    """PostgreSQL's COPY: one stream per batch instead of a statement per row."""
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    name = connection.dialect.identifier_preparer.format_table(table)
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def reserve_ids(connection: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """Ids for ``count`` new rows of ``table``, so inserts need not read their ids back.

    Call it inside a write transaction: on SQLite that holds the database's write lock, so
    nobody else can take the ids above the current maximum before we insert them.
    """
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        query = sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
        return [int(value) for value in connection.execute(query).scalars()]
    highest = connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))
