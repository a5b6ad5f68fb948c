"""What an event means for the rules: which bounces are permanent, which failures are
temporary, and which outcome of a delivery each event stands for."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from mailer.db.tables import events

if TYPE_CHECKING:  # parse loads the render pipeline, which a report does not need
    from mailer.events.parse import ParsedEvent

# A delivery's outcome only moves up this order: a late ``processed`` after ``delivered``
# changes nothing, a bounce after ``delivered`` (an asynchronous bounce) does.
OUTCOME_RANK = {
    "processed": 0,
    "deferred": 1,
    "delivered": 2,
    "blocked": 3,
    "bounced": 3,
    "dropped": 3,
    "spamreport": 4,
}

# One bit per kind of delivery event in deliveries.event_kinds: which of them a recipient had,
# so a report counts the recipients processed, delivered, ... without reading events.
KIND_BITS = {
    "processed": 1,
    "deferred": 2,
    "delivered": 4,
    "bounce": 8,
    "dropped": 16,
    "spamreport": 32,
}
# And whether the recipient opened and clicked, all and not by a machine: set with the first
# open and click (``engagement``), the human click taken back when its clicks turn out
# automated.
FIRST_BITS = {
    "first_open_at": 64,
    "first_human_open_at": 128,
    "first_click_at": 256,
    "first_human_click_at": 512,
}


def is_temporary_failure(event: ParsedEvent) -> bool:
    """A deferral, or a bounce SendGrid calls "blocked" or gives a 4xx status: the address
    may work later. Any other bounce (type "bounce", or none given) is permanent."""
    if event.kind == "deferred":
        return True
    if event.kind != "bounce":
        return False
    return event.bounce_type == "blocked" or (event.status or "").startswith("4")


def is_permanent_bounce(event: ParsedEvent) -> bool:
    return event.kind == "bounce" and not is_temporary_failure(event)


def temporary_failure_rows() -> sa.ColumnElement[bool]:
    """``is_temporary_failure`` as a condition on stored events."""
    return sa.or_(
        events.c.kind == "deferred",
        sa.and_(
            events.c.kind == "bounce",
            sa.or_(events.c.bounce_type == "blocked", events.c.status.like("4%")),
        ),
    )


def outcome_of(event: ParsedEvent) -> str | None:
    """The delivery outcome the event stands for, None for events that are not one."""
    if event.kind == "bounce":
        return "blocked" if is_temporary_failure(event) else "bounced"
    if event.kind in ("processed", "deferred", "delivered", "dropped", "spamreport"):
        return event.kind
    return None
