"""Who a campaign was for and what happened to each of them: the ledger, recipient by
recipient, with the reason a delivery failed, was skipped or is in doubt."""

from __future__ import annotations

from collections.abc import Iterator

from mailer.app import Mailer
from mailer.db.tables import DELIVERY_STATUSES
from mailer.delivery.campaigns import show_campaign
from mailer.delivery.ledger_listing import RecipientRow, recipient_rows
from mailer.errors import FieldError


def check_status(status: str | None) -> str | None:
    """The status asked for, if it is one a delivery can have (FieldError else)."""
    if status is None or status in DELIVERY_STATUSES:
        return status
    raise FieldError("status", f"must be one of {', '.join(DELIVERY_STATUSES)}", status)


def recipients(
    mailer: Mailer, campaign_id: int, status: str | None = None, *, after: int = 0
) -> Iterator[RecipientRow]:
    """The campaign's recipients (those in ``status`` if given), in subscriber id order from
    after the subscriber ``after``. The campaign and the status are checked before the first
    row is read (CampaignNotFound, FieldError); the rows are then read a page at a time as
    they are consumed."""
    wanted = check_status(status)
    show_campaign(mailer.engine, campaign_id)
    return recipient_rows(mailer.engine, campaign_id, wanted, after=after)
