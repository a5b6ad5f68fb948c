"""The lists' names and titles alone, in name order: what a form's choice of list needs,
read from the lists table without counting anyone (counting the members of a list of a
million is a pass over a million memberships, a second on SQLite)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from mailer.db.tables import lists


@dataclass(frozen=True)
class ListName:
    name: str
    title: str


def list_names(engine: sa.Engine, limit: int) -> list[ListName]:
    """The first ``limit`` lists by name, each with its title."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(lists.c.name, lists.c.title).order_by(lists.c.name).limit(limit)
        )
        return [ListName(row.name, row.title or "") for row in rows]
