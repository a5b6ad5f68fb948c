"""Opening many signed links in one transaction: whom each is for, their address and the
lists' titles, read with one query each rather than a few per link. What the unsubscribe
service stands on (one link at a time, or a whole batch of one-click requests at once)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from mailer.audience.addresses import address_key
from mailer.db.tables import lists, subscribers
from mailer.errors import MailerError
from mailer.links import PREFERENCES, LinkTarget, link_token, read_link
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.signing import peek

# A batch's ids go into one IN (...); SQLite allows 32,766 parameters, PostgreSQL 65,535.
MAX_BATCH = 1000


@dataclass(frozen=True)
class OpenedLink:
    """A genuine link of a subscriber who is still there."""

    subscriber_id: int
    email: str
    list_name: str
    """"" when the link is about every list."""


def _claimed_ids(tokens: Iterable[str]) -> set[int]:
    """The subscriber ids the tokens claim to be for (checked later, with the signature)."""
    found = set()
    for token in tokens:
        carried = peek(token) if len(token) <= 2048 else None
        first = (carried or "").partition("\n")[0]
        digits = first[1:]
        if first.startswith("#") and digits.isascii() and digits.isdecimal() and len(digits) < 19:
            found.add(int(digits))
    return found


def open_links(
    connection: sa.Connection, key: bytes, purpose: str, tokens: Sequence[str]
) -> list[OpenedLink | MailerError]:
    """For each token: whom it is for, or InvalidLink / LinkFromTestCopy."""
    assert len(tokens) <= MAX_BATCH
    ids = _claimed_ids(tokens)
    people: dict[int, tuple[str, str]] = {}
    if ids:
        rows = connection.execute(
            sa.select(subscribers.c.id, subscribers.c.email_key, subscribers.c.email).where(
                subscribers.c.id.in_(ids)
            )
        )
        people = {row.id: (row.email_key, row.email) for row in rows}

    def address_key_of(subscriber_id: int) -> str | None:
        found = people.get(subscriber_id)
        return None if found is None else found[0]

    opened: list[OpenedLink | MailerError] = []
    for token in tokens:
        target = read_link(key, purpose, token, address_key_of)
        opened.append(_opened(connection, target, people))
    return opened


def _opened(
    connection: sa.Connection, target: LinkTarget | None, people: dict[int, tuple[str, str]]
) -> OpenedLink | MailerError:
    if target is None:
        return InvalidLink()
    if target.test_copy:
        return LinkFromTestCopy()
    if target.subscriber_id is not None:
        return OpenedLink(target.subscriber_id, people[target.subscriber_id][1], target.list_name)
    # A link of the old kind names the address, which may have been erased since.
    assert target.email is not None
    found = connection.execute(
        sa.select(subscribers.c.id, subscribers.c.email).where(
            subscribers.c.email_key == address_key(target.email)
        )
    ).first()
    if found is None:
        return InvalidLink()
    return OpenedLink(found.id, found.email, target.list_name)


def list_titles(connection: sa.Connection, names: Iterable[str]) -> dict[str, str]:
    """What pages call each named list that still exists: its title, else its name."""
    wanted = {name for name in names if name}
    if not wanted:
        return {}
    rows = connection.execute(
        sa.select(lists.c.name, lists.c.title).where(lists.c.name.in_(wanted))
    )
    return {row.name: row.title or row.name for row in rows}


def preferences_token(key: bytes, link: OpenedLink) -> str:
    """The token of the preferences page of whoever ``link`` is for."""
    return link_token(key, PREFERENCES, link.subscriber_id, link.email, link.list_name)
