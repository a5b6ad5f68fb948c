"""What events change: suppressions, memberships and the delivery ledger.

``apply_events`` is called by ``store.store_batch`` inside the transaction that stored the
events, with only the events that were new in that POST (a batch SendGrid posts again
changes nothing twice). Each rule lives in its own module:

- ``failures``: permanent bounces, repeated temporary failures, drops that mean a bad
  address, and spam reports into suppressions;
- ``subscriptions``: spam reports and SendGrid's unsubscribes into memberships (and a group
  resubscribe undoing a group unsubscribe);
- ``outcomes``: each recipient's delivery outcome (processed ... delivered, bounced,
  dropped), only ever moving forward;
- ``engagement``: first opens and clicks (machine opens and automated clicks apart), or
  per-campaign totals only with ``[tracking] individual = false``;
- ``tallies``: each campaign's events counted by kind and hour, for its report.

Every rule acts only on the address an event names (see ``addresses``); events whose
campaign or subscriber is unknown are kept and change what they can, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from mailer.config import Settings
from mailer.events.addresses import Targets
from mailer.events.engagement import record_engagement
from mailer.events.failures import suppress_failures
from mailer.events.outcomes import record_outcomes
from mailer.events.store_types import StoredEvent
from mailer.events.subscriptions import apply_subscription_events
from mailer.events.tallies import count_events


def apply_events(
    connection: sa.Connection, new_events: Sequence[StoredEvent], settings: Settings, now: datetime
) -> None:
    if not new_events:
        return
    targets = Targets(connection, new_events)
    suppress_failures(connection, new_events, targets, settings, now)
    apply_subscription_events(connection, new_events, targets, now)
    record_outcomes(connection, new_events)
    judgement = record_engagement(connection, new_events, settings)
    count_events(connection, new_events, judgement)
