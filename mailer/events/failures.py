"""Bounces, repeated temporary failures, drops and spam reports into suppressions.

- A permanent bounce suppresses the address (reason "bounce", SendGrid's status and reason
  as the detail).
- Temporary failures (``kinds.is_temporary_failure``) suppress it once ``[events]
  temporary_failures`` messages to it had one within ``temporary_failure_days``: counted
  from the stored events, a message (campaign) counting once however often SendGrid
  deferred it.
- A drop whose reason says the address bounced, unsubscribed, reported spam or is invalid
  is mirrored as a suppression with that reason (SendGrid drops it for good anyway).
- A spam report suppresses it (reason "spamreport").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from mailer.config import Settings
from mailer.db.tables import events
from mailer.events.addresses import Target, Targets, bounce_detail, suppress
from mailer.events.kinds import is_permanent_bounce, is_temporary_failure, temporary_failure_rows
from mailer.events.store_types import StoredEvent

DAY_SECONDS = 86_400
# The kinds of event any rule here acts on (most of a POST is of none of them).
ACTING_KINDS = frozenset({"bounce", "deferred", "dropped", "spamreport"})
# SendGrid's reasons for dropping a message that mean the address should not be mailed.
DROP_REASONS = {
    "bounced address": "bounce",
    "unsubscribed address": "unsubscribe",
    "spam reporting address": "spamreport",
    "invalid": "invalid",
    "invalid address": "invalid",
}


def suppress_failures(
    connection: sa.Connection,
    new_events: Sequence[StoredEvent],
    targets: Targets,
    settings: Settings,
    now: datetime,
) -> None:
    chosen: list[tuple[Target, str, str]] = []
    temporary: list[tuple[StoredEvent, Target]] = []
    for stored in new_events:
        event = stored.event
        if event.kind not in ACTING_KINDS:
            continue
        target = targets.of(stored)
        if target is None:
            continue
        if is_permanent_bounce(event):
            chosen.append(
                (target, "bounce", bounce_detail("SendGrid bounce", event.status, event.reason))
            )
        elif is_temporary_failure(event):
            temporary.append((stored, target))
        elif event.kind == "dropped":
            reason = DROP_REASONS.get((event.reason or "").strip().lower())
            if reason is not None:
                chosen.append((target, reason, f"SendGrid dropped: {event.reason}"))
        elif event.kind == "spamreport":
            chosen.append((target, "spamreport", "SendGrid spam report"))
    suppress(connection, chosen, now)
    if temporary:
        suppress(connection, _repeated(connection, temporary, settings), now)


def _repeated(
    connection: sa.Connection,
    temporary: list[tuple[StoredEvent, Target]],
    settings: Settings,
) -> list[tuple[Target, str, str]]:
    """The targets whose temporary failures (this POST's included: they are stored
    already) reached the limit within the window before the latest of them."""
    window = settings.events.temporary_failure_days * DAY_SECONDS
    since = max(stored.event.occurred_at for stored, _ in temporary) - window
    limit = settings.events.temporary_failures
    by_subscriber = {t.subscriber_id: t for _, t in temporary if t.subscriber_id is not None}
    by_key = {t.key: t for _, t in temporary if t.subscriber_id is None}
    # A message counts once: its campaign, or the event itself when no campaign is known.
    messages = sa.func.count(sa.distinct(sa.func.coalesce(events.c.campaign_id, -events.c.id)))
    recent = sa.and_(events.c.occurred_at > since, temporary_failure_rows())
    found: list[tuple[Target, str, str]] = []
    detail = (
        f"SendGrid: {limit} or more messages failed temporarily within "
        f"{settings.events.temporary_failure_days} days"
    )
    if by_subscriber:
        rows = connection.execute(
            sa.select(events.c.subscriber_id, messages)
            .where(events.c.subscriber_id.in_(sorted(by_subscriber)), recent)
            .group_by(events.c.subscriber_id)
        ).all()
        found += [(by_subscriber[row[0]], "bounce", detail) for row in rows if row[1] >= limit]
    if by_key:
        rows = connection.execute(
            sa.select(events.c.email_key, messages)
            .where(events.c.email_key.in_(sorted(by_key)), recent)
            .group_by(events.c.email_key)
        ).all()
        found += [(by_key[row[0]], "bounce", detail) for row in rows if row[1] >= limit]
    return found
