"""Unsubscribing through a link in a mail (RFC 8058's one-click POST, or the button on the
page a click opens), and undoing it. Repeating either changes nothing and is never an error:
mail clients and link scanners repeat requests.

``unsubscribe_links`` takes a whole batch of requests in one transaction, with a fixed
number of statements whatever the batch's size: a server under a burst of one-click POSTs
gathers the ones that arrive together (see ``mailer.web.group_commit``). One request is a
batch of one (``unsubscribe_by_link``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.db.tables import consent_events, list_unsubscribes, lists, memberships
from mailer.errors import MailerError
from mailer.links import UNSUBSCRIBE
from mailer.services.consent import Origin
from mailer.services.link_batch import (
    MAX_BATCH,
    OpenedLink,
    list_titles,
    open_links,
    preferences_token,
)


@dataclass(frozen=True)
class LinkOutcome:
    list_name: str
    """The list the link is about ("" for every list)."""
    changed: tuple[str, ...]
    """The lists whose membership this request changed (empty when it was done already)."""
    list_title: str
    """What the page calls the list (its name once the list is gone; "" for every list)."""
    preferences_token: str
    """The token of the person's preferences page."""


@dataclass(frozen=True)
class UnsubscribeRequest:
    token: str
    origin: Origin


@dataclass(frozen=True)
class _Membership:
    subscriber_id: int
    list_id: int
    list_name: str


def _memberships_to_change(
    connection: sa.Connection, links: list[OpenedLink], action: str
) -> list[list[_Membership]]:
    """For each link, the memberships it changes: on its list (every list when it names none),
    not unsubscribed yet, or for an undo unsubscribed (never one the person was not on, nor
    one waiting for its confirmation). A membership two links of a batch name is changed by
    the first."""
    if action == "unsubscribe":
        changeable = memberships.c.status != "unsubscribed"
    else:
        changeable = memberships.c.status == "unsubscribed"
    ids = {link.subscriber_id for link in links}
    rows = connection.execute(
        sa.select(memberships.c.subscriber_id, memberships.c.list_id, lists.c.name)
        .join(lists, lists.c.id == memberships.c.list_id)
        .where(memberships.c.subscriber_id.in_(ids), changeable)
        .order_by(lists.c.name)
    ).all()
    by_subscriber: dict[int, list[_Membership]] = {}
    for row in rows:
        by_subscriber.setdefault(row.subscriber_id, []).append(
            _Membership(row.subscriber_id, row.list_id, row.name)
        )
    taken: set[tuple[int, int]] = set()
    found = []
    for link in links:
        mine = [
            member
            for member in by_subscriber.get(link.subscriber_id, [])
            if link.list_name in ("", member.list_name)
            and (member.subscriber_id, member.list_id) not in taken
        ]
        taken.update((member.subscriber_id, member.list_id) for member in mine)
        found.append(mine)
    return found


def _set_status(
    connection: sa.Connection, changes: list[_Membership], status: str, now: datetime
) -> None:
    if not changes:
        return
    connection.execute(
        sa.update(memberships)
        .where(
            memberships.c.subscriber_id == sa.bindparam("member"),
            memberships.c.list_id == sa.bindparam("on_list"),
        )
        .values(status=status, updated_at=now),
        [{"member": m.subscriber_id, "on_list": m.list_id} for m in changes],
    )


def _record_all(
    connection: sa.Connection,
    links: list[OpenedLink],
    changes: list[list[_Membership]],
    origins: list[Origin],
    action: str,
    now: datetime,
    keep_ip: bool,
) -> None:
    rows = [
        {
            "subscriber_id": link.subscriber_id,
            "list_name": member.list_name,
            "action": action,
            "source": origin.source[:100],
            "ip": origin.ip if keep_ip else None,
            "created_at": now,
        }
        for link, mine, origin in zip(links, changes, origins, strict=True)
        for member in mine
    ]
    if rows:
        connection.execute(sa.insert(consent_events), rows)


def _change_links(
    mailer: Mailer, requests: Sequence[UnsubscribeRequest], action: str
) -> list[LinkOutcome | MailerError]:
    """Apply ``action`` (unsubscribe or resubscribe) for every genuine link, in one
    transaction; each request's outcome, or the InvalidLink / LinkFromTestCopy it met."""
    assert action in ("unsubscribe", "resubscribe")
    if len(requests) > MAX_BATCH:
        head, tail = requests[:MAX_BATCH], requests[MAX_BATCH:]
        return _change_links(mailer, head, action) + _change_links(mailer, tail, action)
    key = mailer.signing_key
    now = mailer.clock()
    new_status = "unsubscribed" if action == "unsubscribe" else "confirmed"
    with write_transaction(mailer.engine) as connection:
        opened = open_links(connection, key, UNSUBSCRIBE, [r.token for r in requests])
        genuine = [(link, r.origin) for link, r in zip(opened, requests, strict=True)]
        links = [link for link, _ in genuine if isinstance(link, OpenedLink)]
        origins = [origin for link, origin in genuine if isinstance(link, OpenedLink)]
        changes = _memberships_to_change(connection, links, action) if links else []
        _set_status(connection, [m for mine in changes for m in mine], new_status, now)
        keep_ip = mailer.settings.web.record_ip
        _record_all(connection, links, changes, origins, action, now, keep_ip)
        titles = list_titles(connection, (link.list_name for link in links))
        if action == "unsubscribe":
            for link, mine, origin in zip(links, changes, origins, strict=True):
                if not mine and link.list_name and link.list_name not in titles:
                    _keep_for_a_list_made_again(connection, link, origin, now)
    outcomes = iter(zip(links, changes, strict=True))
    results: list[LinkOutcome | MailerError] = []
    for item in opened:
        if not isinstance(item, OpenedLink):
            results.append(item)
            continue
        link, mine = next(outcomes)
        title = titles.get(link.list_name, link.list_name)
        changed = tuple(m.list_name for m in mine)
        results.append(LinkOutcome(link.list_name, changed, title, preferences_token(key, link)))
    return results


def unsubscribe_links(
    mailer: Mailer, requests: Sequence[UnsubscribeRequest]
) -> list[LinkOutcome | MailerError]:
    """Unsubscribe each link's subscriber from its list (from every list when it names
    none), all in one transaction. A send in progress skips them from its next batch on
    (the ledger checks memberships)."""
    return _change_links(mailer, requests, "unsubscribe")


def _one(result: LinkOutcome | MailerError) -> LinkOutcome:
    if isinstance(result, MailerError):
        raise result
    return result


def unsubscribe_by_link(mailer: Mailer, token: str, origin: Origin) -> LinkOutcome:
    """One link's unsubscribe; raises InvalidLink or LinkFromTestCopy."""
    return _one(unsubscribe_links(mailer, [UnsubscribeRequest(token, origin)])[0])


def resubscribe_by_link(mailer: Mailer, token: str, origin: Origin) -> LinkOutcome:
    """Undo an unsubscribe made by mistake: the link's lists are confirmed again. Only lists
    the person had left are touched; someone never on a list is not added to it."""
    return _one(_change_links(mailer, [UnsubscribeRequest(token, origin)], "resubscribe")[0])


def link_page(mailer: Mailer, token: str) -> LinkOutcome:
    """What the page an unsubscribe link opens shows, changing nothing; raises InvalidLink
    or LinkFromTestCopy."""
    with mailer.engine.connect() as connection:
        opened = open_links(connection, mailer.signing_key, UNSUBSCRIBE, [token])[0]
        if isinstance(opened, MailerError):
            raise opened
        title = list_titles(connection, [opened.list_name]).get(opened.list_name, "")
    token_for_preferences = preferences_token(mailer.signing_key, opened)
    return LinkOutcome(opened.list_name, (), title or opened.list_name, token_for_preferences)


def _keep_for_a_list_made_again(
    connection: sa.Connection, link: OpenedLink, origin: Origin, now: datetime
) -> None:
    """A link to a list deleted since: nothing to change now, but a list created again under
    that name must not mail them."""
    exists = connection.execute(
        sa.select(list_unsubscribes.c.subscriber_id).where(
            list_unsubscribes.c.list_name == link.list_name,
            list_unsubscribes.c.subscriber_id == link.subscriber_id,
        )
    ).first()
    if exists is None:
        connection.execute(
            sa.insert(list_unsubscribes).values(
                list_name=link.list_name,
                subscriber_id=link.subscriber_id,
                source=origin.source[:200],
                unsubscribed_at=now,
            )
        )
