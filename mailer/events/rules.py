"""What events change: suppressions, memberships and the delivery ledger.

Not written yet: today the events are only stored. ``apply_events`` is where the rules go,
called by ``store.store_batch`` inside the transaction that stored the events, with only the
events that were new in that POST (a batch SendGrid posts again changes nothing twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from mailer.config import Settings
from mailer.events.store_types import StoredEvent


def apply_events(
    connection: sa.Connection, new_events: Sequence[StoredEvent], settings: Settings, now: datetime
) -> None:
    """Apply the rules to ``new_events`` (to come): a permanent bounce or a spam report
    suppresses the address; repeated temporary failures within a window suppress it;
    ``dropped`` marks the delivery dropped (and mirrors bounce, unsubscribe, spam and invalid
    reasons into suppressions); SendGrid's unsubscribes unsubscribe and its group
    resubscribes undo them; ``processed`` and ``delivered`` set the delivery's status; opens
    and clicks become engagement (machine opens and automated clicks marked), or only
    per-campaign totals with ``[tracking] individual = false``; and events of an in-doubt
    batch confirm its recipients. Today it changes nothing."""
    del connection, new_events, settings, now
