"""The public archive of sent issues, read from what the campaigns stored when they started
(never from the issue files, which may have changed or gone since).

An issue is in the archive once one of its campaigns has put it in someone's mailbox: the
campaign finished (``sent``), or is still ``sending`` or ``paused`` with at least one batch
gone out (so the "view in browser" link of a mail already delivered works while the rest of a
long send goes on). A cancelled or failed campaign does not put an issue there by itself. Of
the campaigns that count, the newest (by start) gives the content shown and decides whether the
issue is shown at all (``archive: false`` in the front matter it was sent with keeps it out),
so the editor's latest word wins; the issue's date is when it first went out.

The archive copy is the stored HTML with each reader's merge fields filled in neutrally: the
name is a word the face gives ("reader"), the address and attributes are empty, and the
unsubscribe and preferences links lead to the home page, so it carries nobody's data and no
link that acts for anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.db.tables import batches, campaigns
from mailer.errors import FieldError, MailerError
from mailer.render.tokens import MergeTemplate, Recipient

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_ISSUE_NUMBER = 999_999
# Still going, or stopped for a while: in the archive once something went out.
UNDER_WAY = ("sending", "paused")


class NotInArchive(MailerError):
    """No such issue was sent, or it was sent with ``archive: false``."""

    def __init__(self, number: int) -> None:
        super().__init__(f"issue {number} is not in the archive")
        self.number = number


@dataclass(frozen=True)
class ArchiveEntry:
    number: int
    title: str
    subject: str
    preheader: str
    first_sent_at: datetime
    """When the issue first went out (UTC)."""
    sent_at: datetime
    """When the copy shown went out (UTC): later than ``first_sent_at`` if it was sent again."""
    sent_on: date
    """The day it first went out, in the newsletter's time zone."""


@dataclass(frozen=True)
class ArchivePage:
    entries: tuple[ArchiveEntry, ...]
    """Newest (highest number) first."""
    older: int | None
    """Give as ``before`` for the next page of older issues; None: this is the last page."""
    newer: int | None
    """Give as ``after`` for the page of newer issues; None: this is the first page."""


@dataclass(frozen=True)
class ArchivedSend:
    """The send of an issue that the archive shows."""

    campaign_id: int
    entry: ArchiveEntry


@dataclass(frozen=True)
class ArchivedIssue:
    entry: ArchiveEntry
    html: str
    text: str


def _reached_readers() -> sa.ColumnElement[bool]:
    went_out = (
        sa.exists()
        .where(batches.c.campaign_id == campaigns.c.id, batches.c.status == "sent")
        .correlate(campaigns)
    )
    return sa.or_(
        campaigns.c.status == "sent",
        sa.and_(campaigns.c.status.in_(UNDER_WAY), went_out),
    )


def _newest_sends(*extra: sa.ColumnElement[Any], where: Sequence[Any] = ()) -> sa.Subquery:
    """One row per issue number: its newest campaign that reached readers, with when the
    issue first went out."""
    by_issue = campaigns.c.issue_number
    return (
        sa.select(
            campaigns.c.issue_number,
            campaigns.c.title,
            campaigns.c.subject,
            campaigns.c.preheader,
            campaigns.c.archived,
            campaigns.c.started_at,
            *extra,
            sa.func.row_number()
            .over(
                partition_by=by_issue,
                order_by=(campaigns.c.started_at.desc(), campaigns.c.id.desc()),
            )
            .label("recency"),
            sa.func.min(campaigns.c.started_at).over(partition_by=by_issue).label("first_sent"),
        )
        .where(_reached_readers(), *where)
        .subquery("newest_sends")
    )


def _shown(sends: sa.Subquery) -> sa.Select[Any]:
    return sa.select(sends).where(sends.c.recency == 1, sends.c.archived)


def _entry(row: sa.Row[Any], zone: ZoneInfo) -> ArchiveEntry:
    first: datetime = row.first_sent
    return ArchiveEntry(
        number=row.issue_number,
        title=row.title or row.subject or "",
        subject=row.subject or "",
        preheader=row.preheader or "",
        first_sent_at=first,
        sent_at=row.started_at,
        sent_on=first.astimezone(zone).date(),
    )


def _zone(mailer: Mailer) -> ZoneInfo:
    return ZoneInfo(mailer.settings.newsletter.timezone)


def _fetch(mailer: Mailer, query: sa.Select[Any]) -> list[ArchiveEntry]:
    zone = _zone(mailer)
    with mailer.engine.connect() as connection:
        return [_entry(row, zone) for row in connection.execute(query)]


def _any(mailer: Mailer, sends: sa.Subquery, clause: sa.ColumnElement[bool]) -> bool:
    shown = _shown(sends).where(clause).subquery()
    with mailer.engine.connect() as connection:
        return connection.execute(sa.select(sa.exists().select_from(shown))).scalar() is True


def archive_page(
    mailer: Mailer, *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> ArchivePage:
    """The archived issues, newest first: the newest ``size`` of them, or the ``size`` just
    older than issue ``before``, or just newer than issue ``after``. Pages are marked by issue
    numbers rather than counted, so a page does not shift when a new issue goes out."""
    if before is not None and after is not None:
        raise FieldError("after", "give before or after, not both")
    size = max(1, min(size, MAX_PAGE_SIZE))
    sends = _newest_sends()
    number = sends.c.issue_number
    shown = _shown(sends).limit(size)
    if after is not None:
        entries = _fetch(mailer, shown.where(number > after).order_by(number))[::-1]
    else:
        if before is not None:
            shown = shown.where(number < before)
        entries = _fetch(mailer, shown.order_by(number.desc()))
    if not entries:
        return ArchivePage((), None, None)
    oldest, newest = entries[-1].number, entries[0].number
    return ArchivePage(
        tuple(entries),
        older=oldest if _any(mailer, sends, number < oldest) else None,
        newer=newest if _any(mailer, sends, number > newest) else None,
    )


def latest_issues(mailer: Mailer, count: int = PAGE_SIZE) -> tuple[ArchiveEntry, ...]:
    """The newest ``count`` archived issues, newest first (for the home page and the feed)."""
    return archive_page(mailer, size=count).entries


def neutral_reader(base_url: str, reader_name: str) -> Recipient:
    """Whom the archive copy is written for: nobody. The name is ``reader_name`` (a word such
    as "reader"), the address and attributes are empty, and the unsubscribe and preferences
    links lead to the home page, which acts for no one."""
    home = f"{base_url}/"
    return Recipient(email="", name=reader_name, unsubscribe_url=home, preferences_url=home)


# Made once: building this statement takes several times as long as running it.
_SHOWN_SEND = _shown(
    _newest_sends(
        campaigns.c.id,
        campaigns.c.html.is_not(None).label("has_content"),
        where=(campaigns.c.issue_number == sa.bindparam("number"),),
    )
)


def shown_send(mailer: Mailer, number: int) -> ArchivedSend:
    """Which send of issue ``number`` the archive shows now (one small query, no content);
    NotInArchive when it was never sent or was sent with ``archive: false``."""
    if not 1 <= number <= MAX_ISSUE_NUMBER:
        raise NotInArchive(number)
    with mailer.engine.connect() as connection:
        row = connection.execute(_SHOWN_SEND, {"number": number}).first()
    if row is None or not row.has_content:
        raise NotInArchive(number)
    return ArchivedSend(campaign_id=row.id, entry=_entry(row, _zone(mailer)))


def _stored(mailer: Mailer, shown: ArchivedSend, *columns: sa.Column[Any]) -> sa.Row[Any]:
    with mailer.engine.connect() as connection:
        row = connection.execute(
            sa.select(*columns).where(campaigns.c.id == shown.campaign_id)
        ).first()
    if row is None:
        raise NotInArchive(shown.entry.number)
    return row


def archived_html(mailer: Mailer, shown: ArchivedSend, *, reader_name: str = "") -> str:
    """The HTML of send ``shown`` filled in for nobody (see ``neutral_reader``). A send's
    content is stored when it starts and never changes, so neither does this."""
    row = _stored(mailer, shown, campaigns.c.html)
    reader = neutral_reader(mailer.settings.newsletter.base_url, reader_name)
    return MergeTemplate(row.html or "").personalize(reader)


def archived_issue(mailer: Mailer, number: int, *, reader_name: str = "") -> ArchivedIssue:
    """Issue ``number`` as it was last sent, its HTML and its text filled in for nobody (see
    ``neutral_reader``); NotInArchive when it was never sent or was sent with ``archive:
    false``."""
    shown = shown_send(mailer, number)
    row = _stored(mailer, shown, campaigns.c.html, campaigns.c.text)
    reader = neutral_reader(mailer.settings.newsletter.base_url, reader_name)
    return ArchivedIssue(
        entry=shown.entry,
        html=MergeTemplate(row.html or "").personalize(reader),
        text=MergeTemplate(row.text or "").personalize(reader),
    )
