"""Opening a signed link from a mail: whom and which list it is for, or a refusal that says
nothing about anyone (a forged, cut or changed link, or one whose subscriber is gone)."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.addresses import address_key
from mailer.db.tables import subscribers
from mailer.errors import MailerError
from mailer.links import LinkTarget, read_link


class InvalidLink(MailerError):
    """The link is not one this newsletter made, or nobody it names is left."""

    def __init__(self) -> None:
        super().__init__("this link is not valid: it may have been cut short or changed")


class LinkFromTestCopy(MailerError):
    """A link from a test copy or a preview, which acts on nobody."""

    def __init__(self) -> None:
        super().__init__("this link comes from a test copy or a preview: it changes nothing")


def open_link(mailer: Mailer, purpose: str, token: str) -> LinkTarget:
    """The link's target; raises InvalidLink for anything not genuine."""
    with mailer.engine.connect() as connection:

        def address_key_of(subscriber_id: int) -> str | None:
            found = connection.execute(
                sa.select(subscribers.c.email_key).where(subscribers.c.id == subscriber_id)
            ).scalar()
            return None if found is None else str(found)

        target = read_link(mailer.signing_key, purpose, token, address_key_of)
    if target is None:
        raise InvalidLink()
    return target


def subscriber_of(connection: sa.Connection, target: LinkTarget) -> int:
    """The id of the subscriber a genuine link is for; InvalidLink when they are gone (an
    old-style link names the address, which may have been erased since)."""
    if target.test_copy:
        raise LinkFromTestCopy()
    if target.subscriber_id is not None:
        return target.subscriber_id
    assert target.email is not None
    found = connection.execute(
        sa.select(subscribers.c.id).where(subscribers.c.email_key == address_key(target.email))
    ).scalar()
    if found is None:
        raise InvalidLink()
    return int(found)


def preferences_token_for(mailer: Mailer, purpose: str, token: str) -> str | None:
    """A preferences link's token for whoever a genuine ``purpose`` link is for (a page
    reached through an unsubscribe link offers their preferences); None for a test copy."""
    from mailer.links import PREFERENCES, link_token

    target = open_link(mailer, purpose, token)
    if target.test_copy:
        return None
    with mailer.engine.connect() as connection:
        subscriber_id = subscriber_of(connection, target)
        email = connection.execute(
            sa.select(subscribers.c.email).where(subscribers.c.id == subscriber_id)
        ).scalar_one()
    return link_token(mailer.signing_key, PREFERENCES, subscriber_id, email, target.list_name)


def list_title(mailer: Mailer, list_name: str) -> str:
    """What a page calls a list: its title, or its name once the list is gone."""
    from mailer.db.tables import lists

    if not list_name:
        return ""
    with mailer.engine.connect() as connection:
        title = connection.execute(
            sa.select(lists.c.title).where(lists.c.name == list_name)
        ).scalar()
    return str(title) if title else list_name
