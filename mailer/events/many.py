"""A Core statement run for many parameter sets by the database driver's own executemany.

SQLAlchemy builds and processes each set's parameters in Python, which for a POST's
thousand deliveries took longer than the database took to update them. Here the statement
is compiled once and the driver is handed plain tuples (SQLite) or dicts (PostgreSQL). Only
for statements whose parameters need no conversion on the way in: integers, texts and
booleans (which both drivers take as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler


def execute_many(
    connection: sa.Connection, statement: sa.ClauseElement, parameters: Sequence[Mapping[str, Any]]
) -> None:
    if not parameters:
        return
    compiled = statement.compile(dialect=connection.dialect)
    assert isinstance(compiled, SQLCompiler)
    fixed = compiled.params  # values written into the statement, e.g. ``kind == "click"``
    if compiled.positional:
        names = compiled.positiontup or []
        rows: list[Any] = [
            tuple(given[name] if name in given else fixed[name] for name in names)
            for given in parameters
        ]
    else:
        rows = [{**fixed, **given} for given in parameters]
    connection.exec_driver_sql(compiled.string, rows)
