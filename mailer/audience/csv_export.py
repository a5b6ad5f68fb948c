"""CSV export of a list that `subscribers import` reads back to the same data."""

from __future__ import annotations

import csv
from typing import TextIO

import sqlalchemy as sa

from mailer.audience.attributes import format_attribute
from mailer.audience.csv_cells import neutralize
from mailer.audience.lists import find_list
from mailer.db.tables import MEMBERSHIP_STATUSES, memberships, subscribers
from mailer.errors import MailerError

FIXED_COLUMNS = ("email", "name", "timezone")


def _attribute_keys(connection: sa.Connection, members: sa.Select[tuple[int]]) -> list[str]:
    """Every attribute name any exported member has, for the header row."""
    if connection.dialect.name == "postgresql":
        keys = sa.select(sa.func.jsonb_object_keys(subscribers.c.attributes).label("key")).where(
            subscribers.c.id.in_(members)
        )
    else:
        each = sa.func.json_each(subscribers.c.attributes).table_valued("key")
        # An explicit join (ON true) tells SQLAlchemy json_each belongs with subscribers.
        keys = (
            sa.select(each.c.key)
            .select_from(subscribers)
            .join(each, sa.true())
            .where(subscribers.c.id.in_(members))
        )
    return sorted({str(key) for key in connection.execute(keys.distinct()).scalars()})


def export_csv(engine: sa.Engine, list_name: str, out: TextIO, *, status: str | None = None) -> int:
    """Write the list's members (of one status, if given) as CSV; returns how many."""
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise MailerError(f"--status {status!r}: use one of {', '.join(MEMBERSHIP_STATUSES)}")
    with engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
        members = sa.select(memberships.c.subscriber_id).where(
            memberships.c.list_id == mailing_list.id
        )
        if status is not None:
            members = members.where(memberships.c.status == status)
        keys = _attribute_keys(connection, members)
        # "\r\n" rows (RFC 4180): minimal quoting then also quotes cells holding a lone "\r",
        # which a reader would otherwise take for the end of the row.
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*FIXED_COLUMNS, *keys])
        query = (
            sa.select(
                subscribers.c.email,
                subscribers.c.name,
                subscribers.c.timezone,
                subscribers.c.attributes,
            )
            .where(subscribers.c.id.in_(members))
            .order_by(subscribers.c.email_key)
        )
        count = 0
        for email, name, timezone, attributes in connection.execution_options(
            yield_per=5000
        ).execute(query):
            cells = [email, name, timezone or ""]
            cells += [format_attribute(attributes.get(key)) for key in keys]
            writer.writerow([neutralize(cell) for cell in cells])
            count += 1
    return count
