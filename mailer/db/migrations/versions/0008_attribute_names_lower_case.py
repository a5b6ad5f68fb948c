"""Attribute names lower-case: names became case-insensitive (``City`` is ``city``), so names
stored in other spellings are folded into their lower-case one, where segments, templates and
exports look for them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from mailer.audience.attributes import RESERVED_KEYS, TAGS, folded_attributes, parse_tags
from mailer.db.types import Json

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

subscribers = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("attributes", Json))


def folded(stored: dict[str, Any]) -> dict[str, Any]:
    """The attributes with lower-case names (the lower-case spelling wins where both exist).
    A name that folds onto a field of its own (``Name``, ``Email``, ``TimeZone``) keeps its
    value as ``<name>_attribute``; a ``Tags`` text becomes the tags list."""
    renamed = {
        (f"{key.lower()}_attribute" if key.lower() in RESERVED_KEYS else key): value
        for key, value in stored.items()
    }
    result = folded_attributes(renamed)
    if isinstance(result.get(TAGS), str):
        result[TAGS] = parse_tags(result[TAGS])
    return result


def upgrade() -> None:
    connection = op.get_bind()
    # Names are ASCII (the attribute name rule), so SQL's lower() finds the rows to change.
    if connection.dialect.name == "postgresql":
        mixed_case = "EXISTS (SELECT 1 FROM jsonb_object_keys(attributes) k WHERE k <> lower(k))"
    else:
        mixed_case = "EXISTS (SELECT 1 FROM json_each(attributes) WHERE key <> lower(key))"
    rows = connection.execute(
        sa.select(subscribers.c.id, subscribers.c.attributes).where(sa.text(mixed_case))
    ).all()
    update = (
        sa.update(subscribers)
        .where(subscribers.c.id == sa.bindparam("sid"))
        .values(attributes=sa.bindparam("folded", type_=Json))
    )
    for subscriber_id, attributes in rows:
        connection.execute(update, {"sid": subscriber_id, "folded": folded(attributes)})


def downgrade() -> None:
    """Nothing to undo: lower-case names read the same before this revision."""
