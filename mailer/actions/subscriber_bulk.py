"""Many subscribers added to one list at once, on behalf of a principal who may manage the
audience, with the rules of an import: each row is checked on its own, a bad row is reported
by its index and field and skipped, and every good row is added in one transaction with one
audit entry (``subscriber.bulk_add``) counting the outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.actions.subscriber_confirmations import mail_confirmations
from mailer.actions.subscriber_input import NewSubscriber, incoming, named_list
from mailer.app import Mailer
from mailer.audience.attributes import UNSTORABLE
from mailer.audience.staged import IncomingSubscriber
from mailer.audience.upsert import apply_batch
from mailer.db.engine import write_transaction
from mailer.errors import FieldError

#: The most rows one bulk add takes.
BULK_MAX = 1000
#: The outcomes that leave a row's address on the list.
ON_THE_LIST = frozenset({"imported", "updated", "unchanged"})


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row of a bulk add: ``imported``, ``updated``, ``unchanged``,
    ``suppressed``, ``unsubscribed`` (both left off the list), or ``rejected``, with the
    ``field`` that was wrong."""

    index: int
    """The row's position in the request, from 0."""
    email: str
    outcome: str
    field: str | None = None
    detail: str = ""
    confirmation: str | None = None
    """On a double opt-in list: ``mailed`` (a link to confirm went out), ``not sent: <why>``;
    None when no confirmation was due."""

    def as_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "email": self.email,
            "outcome": self.outcome,
            "field": self.field,
            "detail": self.detail,
            "confirmation": self.confirmation,
        }


def add_subscribers_bulk(
    mailer: Mailer,
    principal: Principal,
    rows: Sequence[NewSubscriber],
    *,
    list_name: str,
    confirmed: bool = False,
) -> list[RowOutcome]:
    """Add up to :data:`BULK_MAX` rows to one list: one outcome per row, in order. A known
    address keeps its fields where the row's are empty; a suppressed or unsubscribed one is
    left off the list. On a double opt-in list new members start unconfirmed unless
    ``confirmed``, and those unconfirmed are mailed a link to confirm."""
    principal.require(Permission.MANAGE_AUDIENCE)
    if not rows:
        raise FieldError("rows", "give at least one row")
    if len(rows) > BULK_MAX:
        raise FieldError("rows", f"at most {BULK_MAX:,} rows at once; split the rest")
    outcomes: dict[int, RowOutcome] = {}
    good: list[tuple[int, IncomingSubscriber]] = []
    for index, row in enumerate(rows):
        try:
            good.append((index, incoming(row)))
        except FieldError as exc:
            shown = row.email if not UNSTORABLE.search(row.email) else ""
            outcomes[index] = RowOutcome(index, shown[:320], "rejected", exc.field, exc.problem)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        mailing_list = named_list(connection, "list", list_name)
        if good:
            written = apply_batch(
                connection,
                mailing_list,
                [checked for _, checked in good],
                confirmed=confirmed,
                source="admin",
                now=now,
            )
            for (index, _), done in zip(good, written, strict=True):
                outcomes[index] = RowOutcome(
                    index, done.email, done.outcome.value, None, done.detail
                )
        ordered = [outcomes[index] for index in range(len(rows))]
        counts = Counter(outcome.outcome for outcome in ordered)
        detail = {"rows": len(rows), "confirmed": confirmed, "counts": dict(sorted(counts.items()))}
        audit.record(connection, principal.actor, "subscriber.bulk_add", list_name, detail, now)
    # After the commit, as for one: the links in the mail must find the memberships.
    on_list = [row.email for row in ordered if row.outcome in ON_THE_LIST]
    mailed = mail_confirmations(mailer, [list_name], on_list, confirmed=confirmed)
    return [replace(row, confirmation=mailed.of(row.email)) for row in ordered]
