"""Double opt-in: the confirmation mail, the link in it, and what confirming changes.

A confirmation link confirms the lists it names that are waiting for this person's word:
memberships still unconfirmed, and lists they had left before the link was made (leaving
afterwards is their later word, which an old mail does not undo). Confirming twice changes
nothing the second time. Nothing else confirms a membership, except an admin on the command
line (``confirm_member``), which never brings back someone who left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.addresses import address_hash, require_address
from mailer.audience.lists import find_list
from mailer.db.engine import write_transaction
from mailer.db.tables import lists, memberships, subscribers, suppressions
from mailer.delivery.transports.base import Outgoing
from mailer.errors import MailerError
from mailer.links import SubscriberLinks
from mailer.render.tokens import Recipient
from mailer.services.confirm_links import ConfirmLink, confirm_url, open_confirm_link
from mailer.services.consent import Origin, record
from mailer.services.notice_mail import (
    CONFIRM_NOTICE,
    CONFIRM_URL_FIELD,
    WELCOME_NOTICE,
    Deliver,
    deliver_now,
    render_notice,
    send_notice,
)
from mailer.services.subscriber_links import InvalidLink


@dataclass(frozen=True)
class ListTitle:
    name: str
    title: str


@dataclass(frozen=True)
class ConfirmationMail:
    """A confirmation to send: to whom, about which lists (names and titles, in order)."""

    subscriber_id: int
    email: str
    lists: tuple[ListTitle, ...]


@dataclass(frozen=True)
class Confirmation:
    lists: tuple[ListTitle, ...]
    """The lists the link names (those that still exist)."""
    pending: tuple[str, ...]
    """The ones confirming would change now (after confirming: the ones it changed)."""


def _mail_list_name(names: Sequence[str]) -> str:
    """The list a mail about ``names`` is from (its List-Id and its unsubscribe link): the
    list itself, or "" (all of them) when it is about several."""
    return names[0] if len(names) == 1 else ""


def send_confirmations(mailer: Mailer, mails: Sequence[ConfirmationMail]) -> dict[int, str]:
    """Mail each person a link confirming their lists; the subscribers the transport refused,
    with the reason (NoticeNotSent when it took nothing)."""
    now = mailer.clock()
    groups: dict[tuple[ListTitle, ...], dict[int, ConfirmationMail]] = {}
    for mail in mails:
        groups.setdefault(mail.lists, {})[mail.subscriber_id] = mail
    refused: dict[int, str] = {}
    for about, group in groups.items():
        names = tuple(entry.name for entry in about)
        notice = render_notice(mailer.renderer, CONFIRM_NOTICE, tuple(e.title for e in about))
        links = SubscriberLinks(
            mailer.settings.newsletter.base_url,
            mailer.signing_key,
            _mail_list_name(names),
            preferences=False,
        )
        outgoing = []
        for mail in group.values():
            # No display name: whoever filled the form in chose it, and it is not theirs to
            # put in front of the address's owner.
            link = confirm_url(mailer, mail.subscriber_id, mail.email, names, now)
            unsubscribe, _ = links.urls(mail.subscriber_id, mail.email)
            person = Recipient(mail.email, "", unsubscribe, "", {CONFIRM_URL_FIELD: link})
            outgoing.append(Outgoing(mail.subscriber_id, person))
        refused |= send_notice(mailer, notice, _mail_list_name(names), outgoing)
    return refused


@dataclass(frozen=True)
class ConfirmationsSent:
    sent: tuple[str, ...]
    """The addresses mailed."""
    refused: dict[str, str]
    """Addresses the transport refused, with the reason."""


def needs_confirmation(mailer: Mailer, list_name: str) -> bool:
    """Whether people added to the list wait for a confirmation (a double opt-in list)."""
    with mailer.engine.connect() as connection:
        return find_list(connection, list_name).double_opt_in


def request_confirmations(
    mailer: Mailer, list_name: str, emails: Sequence[str]
) -> ConfirmationsSent:
    """Mail a confirmation to each of ``emails`` that is an unconfirmed member of the list
    and not suppressed (an admin adding people to a double opt-in list)."""
    keys = list(dict.fromkeys(require_address(email).key for email in emails))
    with mailer.engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
        rows = connection.execute(
            sa.select(subscribers.c.id, subscribers.c.email)
            .join(memberships, memberships.c.subscriber_id == subscribers.c.id)
            .outerjoin(suppressions, suppressions.c.email_key == subscribers.c.email_key)
            .where(
                memberships.c.list_id == mailing_list.id,
                memberships.c.status == "unconfirmed",
                subscribers.c.email_key.in_(keys),
                suppressions.c.address_hash.is_(None),
            )
            .order_by(subscribers.c.email_key)
        ).all()
    about = (ListTitle(mailing_list.name, mailing_list.title),)
    mails = [ConfirmationMail(int(row.id), row.email, about) for row in rows]
    refused = send_confirmations(mailer, mails) if mails else {}
    by_id = {mail.subscriber_id: mail.email for mail in mails}
    return ConfirmationsSent(
        tuple(mail.email for mail in mails if mail.subscriber_id not in refused),
        {by_id[subscriber_id]: reason for subscriber_id, reason in refused.items()},
    )


def read_confirmation(mailer: Mailer, token: str) -> Confirmation:
    """What the link would confirm, changing nothing (for the page a click opens: a link
    scanner following the link must not confirm anyone). InvalidLink when not genuine."""
    link = open_confirm_link(mailer, token)
    with mailer.engine.connect() as connection:
        return _confirmable(connection, link)


def confirm(
    mailer: Mailer, token: str, origin: Origin, *, deliver: Deliver = deliver_now
) -> Confirmation:
    """Confirm what the link names and is waiting to be confirmed; then, under ``[web]
    welcome_email``, hand ``deliver`` the sending of a welcome mail."""
    link = open_confirm_link(mailer, token)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        found = _confirmable(connection, link)
        if not found.pending:
            return found
        changed = _confirm_lists(connection, link.subscriber_id, found.pending, now)
        if not changed:
            return Confirmation(found.lists, ())
        email_key, email = connection.execute(
            sa.select(subscribers.c.email_key, subscribers.c.email).where(
                subscribers.c.id == link.subscriber_id
            )
        ).one()
        # Leaving everything had suppressed the address as "unsubscribe"; asking again and
        # confirming from their own mailbox is their word to the contrary. Bounces,
        # complaints and an admin's suppression stay.
        connection.execute(
            sa.delete(suppressions).where(
                suppressions.c.address_hash == address_hash(email_key),
                suppressions.c.reason == "unsubscribe",
            )
        )
        keep_ip = mailer.settings.web.record_ip
        subscriber_id = link.subscriber_id
        record(connection, subscriber_id, list(changed), "confirm", origin, now, keep_ip=keep_ip)
    welcome = tuple(entry for entry in found.lists if entry.name in changed)
    if mailer.settings.web.welcome_email:
        deliver(lambda: send_welcome(mailer, subscriber_id, email, welcome))
    return Confirmation(found.lists, changed)


def _confirmable(connection: sa.Connection, link: ConfirmLink) -> Confirmation:
    person = connection.execute(
        sa.select(subscribers.c.email_key).where(subscribers.c.id == link.subscriber_id)
    ).first()
    if person is None:  # erased since the link was opened
        raise InvalidLink()
    rows = connection.execute(
        sa.select(lists.c.name, lists.c.title, memberships.c.status, memberships.c.updated_at)
        .select_from(lists)
        .outerjoin(
            memberships,
            sa.and_(
                memberships.c.list_id == lists.c.id,
                memberships.c.subscriber_id == link.subscriber_id,
            ),
        )
        .where(lists.c.name.in_(link.list_names))
    ).all()
    by_name = {row.name: row for row in rows}
    named = tuple(
        ListTitle(name, by_name[name].title) for name in link.list_names if name in by_name
    )
    # Made within the second of the link's time counts as before it (the link keeps seconds).
    before_link = link.issued_at + timedelta(seconds=1)
    left_all = connection.execute(
        sa.select(suppressions.c.created_at).where(
            suppressions.c.address_hash == address_hash(person.email_key),
            suppressions.c.reason == "unsubscribe",
        )
    ).scalar()
    if left_all is not None and left_all >= before_link:
        return Confirmation(named, ())  # they left every list after asking for these
    pending = tuple(
        entry.name
        for entry in named
        if by_name[entry.name].status == "unconfirmed"
        or (
            by_name[entry.name].status == "unsubscribed"
            and by_name[entry.name].updated_at < before_link
        )
    )
    return Confirmation(named, pending)


def _confirm_lists(
    connection: sa.Connection, subscriber_id: int, names: Sequence[str], now: datetime
) -> tuple[str, ...]:
    """Confirm the memberships on ``names`` not confirmed yet; the lists changed. (Two
    clicks at once on PostgreSQL: the second's update finds them confirmed and changes none.)"""
    chosen = {
        row.id: row.name
        for row in connection.execute(
            sa.select(lists.c.id, lists.c.name).where(lists.c.name.in_(names))
        )
    }
    changed = connection.execute(
        sa.update(memberships)
        .where(
            memberships.c.subscriber_id == subscriber_id,
            memberships.c.list_id.in_(list(chosen)),
            memberships.c.status != "confirmed",
        )
        .values(status="confirmed", updated_at=now)
        .returning(memberships.c.list_id)
    ).scalars()
    changed_names = {chosen[list_id] for list_id in changed}
    return tuple(name for name in names if name in changed_names)


def send_welcome(
    mailer: Mailer, subscriber_id: int, email: str, confirmed: tuple[ListTitle, ...]
) -> None:
    names = [entry.name for entry in confirmed]
    notice = render_notice(mailer.renderer, WELCOME_NOTICE, tuple(e.title for e in confirmed))
    links = SubscriberLinks(
        mailer.settings.newsletter.base_url, mailer.signing_key, _mail_list_name(names)
    )
    unsubscribe, preferences = links.urls(subscriber_id, email)
    with mailer.engine.connect() as connection:
        name = connection.execute(
            sa.select(subscribers.c.name).where(subscribers.c.id == subscriber_id)
        ).scalar()
    person = Recipient(email, name or "", unsubscribe, preferences)
    send_notice(mailer, notice, _mail_list_name(names), [Outgoing(subscriber_id, person)])


def confirm_member(mailer: Mailer, email: str, list_name: str, origin: Origin) -> bool:
    """An admin confirms an unconfirmed member (True), or finds them confirmed already
    (False). Someone who left the list is not brought back: only they can ask again."""
    address = require_address(email)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        mailing_list = find_list(connection, list_name)
        subscriber_id = connection.execute(
            sa.select(subscribers.c.id).where(subscribers.c.email_key == address.key)
        ).scalar()
        if subscriber_id is None:
            raise MailerError(f"no subscriber {address.email}")
        status = connection.execute(
            sa.select(memberships.c.status).where(
                memberships.c.list_id == mailing_list.id,
                memberships.c.subscriber_id == subscriber_id,
            )
        ).scalar()
        if status is None:
            raise MailerError(f"{address.email} is not on the list {list_name!r}")
        if status == "unsubscribed":
            raise MailerError(
                f"{address.email} unsubscribed from the list {list_name!r}; only they can "
                "subscribe again (signing up mails them a confirmation)"
            )
        if not _confirm_lists(connection, int(subscriber_id), [list_name], now):
            return False
        keep_ip = mailer.settings.web.record_ip
        record(connection, int(subscriber_id), [list_name], "confirm", origin, now, keep_ip=keep_ip)
    return True
