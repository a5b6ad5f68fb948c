"""Signing up through a public form: an address, a name and some of the public lists.

What happens depends on the address and the lists: a new address on a single opt-in list is
subscribed at once; a double opt-in list, and any list the person had left before (or every
list, when they had left everything), waits for the link in a confirmation mail, so nobody
can put someone else on a list or bring back someone who left; an address already confirmed
stays as it is; a bounced, complained or erased address gets nothing. What the form's sender
is told is the same in every case (``SignupOutcome`` depends only on the lists chosen), and
the mail is handed to ``deliver`` whether or not there is any to send, so that no face can
tell a known address from an unknown or suppressed one.

Abuse is limited by counters in the database (they hold across server processes): requests
per IP, and signups per address per day whatever the address's state, which is what caps
the confirmation mails an address can be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mailer.app import Mailer
from mailer.audience.addresses import Address, InvalidAddress, address_hash, normalize_address
from mailer.audience.attributes import InvalidField, check_name
from mailer.db.engine import write_transaction
from mailer.db.tables import lists, memberships, subscribers, suppressions
from mailer.errors import FieldError, MailerError
from mailer.rate_limits import RateLimit, RateLimiter
from mailer.services.confirm_links import MAX_LISTS
from mailer.services.confirmation import ConfirmationMail, ListTitle, send_confirmations
from mailer.services.consent import Origin, record
from mailer.services.notice_mail import Deliver, NoticeNotSent, deliver_now

DAY = 86_400
# Signup requests from one IP address (a flood from one client).
SIGNUPS_PER_IP = RateLimit("signup-ip", 20, 3600)
# Signups naming one address, counted whatever the address's state: at most this many
# confirmation mails a day, and no answer that differs for a known address.
SIGNUPS_PER_ADDRESS = RateLimit("signup-address", 3, DAY)


@dataclass(frozen=True)
class SignupLimits:
    per_ip: RateLimit = SIGNUPS_PER_IP
    per_address: RateLimit = SIGNUPS_PER_ADDRESS


DEFAULT_LIMITS = SignupLimits()


class Throttled(MailerError):
    """Too many requests; ``retry_after`` seconds until the next may be taken."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many signups; try again in {retry_after} seconds")

    def __reduce__(self) -> tuple[type[Throttled], tuple[int]]:
        return (type(self), (self.retry_after,))


@dataclass(frozen=True)
class ListOffer:
    name: str
    title: str
    description: str
    double_opt_in: bool


@dataclass(frozen=True)
class SignupOutcome:
    """The same for every address: it says only what the chosen lists are."""

    lists: tuple[ListTitle, ...]
    to_confirm: tuple[str, ...]
    """The chosen lists that are double opt-in: the face says to look for the confirmation
    mail. (Someone who had left a list gets one for it too, but being told so would tell
    anyone that they had.)"""

    @property
    def confirm_by_mail(self) -> bool:
        return bool(self.to_confirm)


def offered_lists(mailer: Mailer) -> tuple[ListOffer, ...]:
    """The public lists, for a signup form."""
    with mailer.engine.connect() as connection:
        rows = connection.execute(
            sa.select(lists.c.name, lists.c.title, lists.c.description, lists.c.double_opt_in)
            .where(lists.c.public)
            .order_by(lists.c.title, lists.c.name)
        ).all()
    return tuple(ListOffer(r.name, r.title, r.description, bool(r.double_opt_in)) for r in rows)


def _checked_address(email: str) -> Address:
    text = email.strip()
    if not text:
        raise FieldError("email", "enter your email address")
    try:
        return normalize_address(text)
    except InvalidAddress as exc:
        raise FieldError("email", f"not a valid email address: {exc}", text) from None


def _checked_name(name: str) -> str:
    try:
        return check_name(name)
    except InvalidField as exc:
        raise FieldError("name", str(exc)) from None


def _chosen_lists(mailer: Mailer, names: Sequence[str]) -> tuple[ListOffer, ...]:
    wanted = list(dict.fromkeys(names))
    if not wanted:
        raise FieldError("lists", "choose at least one list")
    if len(wanted) > MAX_LISTS:
        raise FieldError("lists", f"choose at most {MAX_LISTS} lists at a time")
    with mailer.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                lists.c.name, lists.c.title, lists.c.description, lists.c.double_opt_in
            ).where(lists.c.name.in_(wanted), lists.c.public)
        ).all()
    found = {row.name: row for row in rows}
    if len(found) < len(wanted):
        # The same words for a private list as for none: its name is nobody else's business.
        raise FieldError("lists", "choose among the lists offered on the form")
    return tuple(
        ListOffer(name, found[name].title, found[name].description, found[name].double_opt_in)
        for name in wanted
    )


def _enforce(limiter: RateLimiter, rule: RateLimit, key: str) -> None:
    verdict = limiter.hit(rule, key)
    if not verdict.allowed:
        raise Throttled(verdict.retry_after)


@dataclass(frozen=True)
class CheckedSignup:
    """A signup whose input can be taken, to be stored (``store_signups``)."""

    address: Address
    name: str
    chosen: tuple[ListOffer, ...]
    origin: Origin
    robot: bool
    """The honeypot field was filled in: nothing is changed or sent for it."""

    @property
    def outcome(self) -> SignupOutcome:
        return SignupOutcome(
            tuple(ListTitle(offer.name, offer.title) for offer in self.chosen),
            tuple(offer.name for offer in self.chosen if offer.double_opt_in),
        )


def check_signup(
    mailer: Mailer,
    email: str,
    name: str,
    list_names: Sequence[str],
    origin: Origin,
    *,
    honeypot: str = "",
    limits: SignupLimits = DEFAULT_LIMITS,
) -> CheckedSignup:
    """The signup, checked; FieldError for input that cannot be taken (naming ``email``,
    ``name`` or ``lists``), counted against the client, or Throttled when past its limit."""
    try:
        address = _checked_address(email)
        checked_name = _checked_name(name)
        chosen = _chosen_lists(mailer, list_names)
    except FieldError:
        # Mistakes count against the client's limit too, and a client past it is told that.
        if origin.ip:
            limiter = RateLimiter(mailer.engine, mailer.signing_key, mailer.clock)
            _enforce(limiter, limits.per_ip, origin.ip)
        raise
    return CheckedSignup(address, checked_name, chosen, origin, bool(honeypot))


def store_signups(
    mailer: Mailer, signups: Sequence[CheckedSignup], limits: SignupLimits = DEFAULT_LIMITS
) -> list[ConfirmationJob | Throttled]:
    """Count and store each signup, all in one transaction (a signup is one wait for the
    database's writer, and signups that arrive together share it); for each, the job that
    sends its confirmation mail if one is due, or Throttled past a limit."""
    limiter = RateLimiter(mailer.engine, mailer.signing_key, mailer.clock)
    results: list[ConfirmationJob | Throttled] = []
    with write_transaction(mailer.engine) as connection:
        for signup in signups:
            mail: ConfirmationMail | None = None
            ip = signup.origin.ip
            verdict = limiter.hit_in(connection, limits.per_ip, ip) if ip else None
            if not signup.robot and (verdict is None or verdict.allowed):
                verdict = limiter.hit_in(connection, limits.per_address, signup.address.key)
                if verdict.allowed:
                    mail = _apply(
                        connection,
                        mailer,
                        signup.address,
                        signup.name,
                        signup.chosen,
                        signup.origin,
                    )
            if verdict is not None and not verdict.allowed:
                results.append(Throttled(verdict.retry_after))
            else:
                results.append(ConfirmationJob(mailer, mail))
    limiter.prune_now_and_then()
    return results


def signup(
    mailer: Mailer,
    email: str,
    name: str,
    list_names: Sequence[str],
    origin: Origin,
    *,
    honeypot: str = "",
    deliver: Deliver = deliver_now,
    limits: SignupLimits = DEFAULT_LIMITS,
) -> SignupOutcome:
    """Sign ``email`` up to the public lists ``list_names``. FieldError for input that cannot
    be taken (naming ``email``, ``name`` or ``lists``), Throttled past a limit. ``honeypot``
    is a field people leave empty: a form filled in by a robot changes and sends nothing.
    ``deliver`` is handed exactly one job, which sends the confirmation mail if one is due
    (NoticeNotSent when the transport takes nothing)."""
    checked = check_signup(
        mailer, email, name, list_names, origin, honeypot=honeypot, limits=limits
    )
    [stored] = store_signups(mailer, [checked], limits)
    if isinstance(stored, Throttled):
        raise stored
    deliver(stored)
    return checked.outcome


@dataclass(frozen=True)
class ConfirmationJob:
    """What a signup hands ``deliver``: its confirmation mail, if one is due (None for a
    known address, a suppressed one or a robot's, which the face cannot tell apart). A face
    runs it, or gathers the mails of many signups into one send (``send_confirmations``)."""

    mailer: Mailer
    mail: ConfirmationMail | None

    def __call__(self) -> None:
        if self.mail is None:
            return
        refused = send_confirmations(self.mailer, [self.mail])
        if refused:
            reason = refused[self.mail.subscriber_id]
            raise NoticeNotSent(f"the confirmation mail was refused: {reason}")


def _apply(
    connection: sa.Connection,
    mailer: Mailer,
    address: Address,
    name: str,
    chosen: tuple[ListOffer, ...],
    origin: Origin,
) -> ConfirmationMail | None:
    """Store what the signup changes; the confirmation mail due, if any."""
    now = mailer.clock()
    suppression = connection.execute(
        sa.select(suppressions.c.reason, suppressions.c.email).where(
            suppressions.c.address_hash == address_hash(address.key)
        )
    ).first()
    # Only someone who left every list may come back, through the mail; a bounce, a complaint
    # or an erasure (no address kept) means no mail at all.
    left_everything = suppression is not None and suppression.reason == "unsubscribe"
    if suppression is not None and (not left_everything or suppression.email is None):
        return None
    subscriber_id = _subscriber_id(connection, address, name, now)
    statuses = {
        row.name: row.status
        for row in connection.execute(
            sa.select(lists.c.name, memberships.c.status)
            .join(memberships, memberships.c.list_id == lists.c.id)
            .where(
                memberships.c.subscriber_id == subscriber_id,
                lists.c.name.in_([offer.name for offer in chosen]),
            )
        )
    }
    waiting = [offer for offer in chosen if statuses.get(offer.name) != "confirmed"]
    # A list needs the mail's link unless it is single opt-in and the person is new to it
    # (having left it, or every list, they must say so from their own mailbox).
    asking = [
        offer
        for offer in waiting
        if offer.double_opt_in or left_everything or statuses.get(offer.name) is not None
    ]
    at_once = [offer for offer in waiting if offer not in asking]
    new = [offer for offer in asking if statuses.get(offer.name) is None]
    _join(connection, subscriber_id, at_once, "confirmed", origin, now)
    _join(connection, subscriber_id, new, "unconfirmed", origin, now)
    keep_ip = mailer.settings.web.record_ip
    requested = [offer.name for offer in waiting]
    record(connection, subscriber_id, requested, "subscribe", origin, now, keep_ip=keep_ip)
    if not asking:
        return None
    titles = tuple(ListTitle(offer.name, offer.title) for offer in asking)
    return ConfirmationMail(subscriber_id, address.email, titles)


def _insert(connection: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """INSERT with ON CONFLICT, which both databases have."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _subscriber_id(connection: sa.Connection, address: Address, name: str, now: datetime) -> int:
    """The address's subscriber, made if new. A known subscriber's name is left as it is:
    anyone can fill a form in with anyone's address."""
    connection.execute(
        _insert(connection, subscribers)
        .values(
            email=address.email,
            email_key=address.key,
            name=name,
            attributes={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["email_key"])
    )
    return int(
        connection.execute(
            sa.select(subscribers.c.id).where(subscribers.c.email_key == address.key)
        ).scalar_one()
    )


def _join(
    connection: sa.Connection,
    subscriber_id: int,
    offers: list[ListOffer],
    status: str,
    origin: Origin,
    now: datetime,
) -> None:
    if not offers:
        return
    ids = connection.execute(
        sa.select(lists.c.id).where(lists.c.name.in_([offer.name for offer in offers]))
    ).scalars()
    connection.execute(
        _insert(connection, memberships)
        .values(
            [
                {
                    "list_id": list_id,
                    "subscriber_id": subscriber_id,
                    "status": status,
                    "source": origin.source[:200],
                    "created_at": now,
                    "updated_at": now,
                }
                for list_id in ids
            ]
        )
        # A second signup at the same moment made it first: theirs stands.
        .on_conflict_do_nothing(index_elements=["list_id", "subscriber_id"])
    )
