"""The sender's one way to the database: a campaign's ledger, its state and its ownership, each
method one transaction (or, for the batch pipeline, a transaction it is handed).

The dispatcher decides; the store records. Keeping every write here means the rules of the
ledger (in_flight committed before a request, only an answer marks rows sent, a claimed batch
never went out) are kept in one place, whatever the dispatcher's loop looks like.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.clock import Clock
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import ledger, ledger_reads, local_time, ownership
from mailer.delivery.campaign_states import Action
from mailer.delivery.campaigns import move_campaign
from mailer.delivery.transports.base import BatchResult
from mailer.errors import MailerError


@dataclass(frozen=True)
class TakenOver:
    """A campaign this process now sends."""

    list_id: int | None
    snapshot_at: datetime
    local_time: bool
    in_doubt: int
    """Rows a stopped sender left in flight, now in doubt."""


class LedgerStore:
    def __init__(self, engine: sa.Engine, campaign_id: int, clock: Clock) -> None:
        self.engine = engine
        self.campaign_id = campaign_id
        self.clock = clock
        self.owner = ownership.this_process()

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        with write_transaction(self.engine) as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            yield connection

    # -- the campaign -----------------------------------------------------------------------

    def take_over(self, stale_after_seconds: float) -> TakenOver:
        """Become the campaign's sender. A stopped sender's claimed batches never went out and
        go back to pending; its in-flight ones may have: they are in doubt."""
        with self.writing() as connection:
            row = connection.execute(
                sa.select(
                    campaigns.c.status,
                    campaigns.c.list_id,
                    campaigns.c.started_at,
                    campaigns.c.local_time,
                ).where(campaigns.c.id == self.campaign_id)
            ).one()
            if row.status != "sending":
                raise MailerError(f"campaign {self.campaign_id} is {row.status}, not sending")
            now = self.clock()
            holder = ownership.take(
                connection, self.campaign_id, self.owner, now, stale_after_seconds
            )
            if holder is not None:
                raise MailerError(
                    f"campaign {self.campaign_id} is being sent by {holder}; "
                    "pause it there, or wait for that process to stop"
                )
            ledger.release_claimed(connection, self.campaign_id, None)
            in_doubt = ledger.mark_in_doubt(
                connection,
                self.campaign_id,
                None,
                "the sending process stopped while this batch was in flight",
                now,
            )
        return TakenOver(
            int(row.list_id) if row.list_id is not None else None,
            row.started_at or now,
            bool(row.local_time),
            in_doubt,
        )

    def beat(self, connection: sa.Connection | None = None) -> str:
        """Renew this sender's heartbeat; the campaign's state ("sending" while it may go on;
        a sender that lost the campaign to another is told "lost")."""
        if connection is None:
            with self.writing() as own:
                return self.beat(own)
        status = ownership.beat(connection, self.campaign_id, self.owner, self.clock())
        return "lost" if status is None else status

    def status(self) -> str:
        with self.reading() as connection:
            status = connection.execute(
                sa.select(campaigns.c.status).where(campaigns.c.id == self.campaign_id)
            ).scalar_one()
        return str(status)

    def finish(self, connection: sa.Connection, waves: local_time.Waves | None) -> str:
        """Nothing is pending or on the wire: the campaign is sent (a local-time campaign
        whose next wave is not due yet stays sending: no sender is needed till then)."""
        if waves is not None and waves.still_waiting(connection):
            return "sending"
        now = self.clock()
        move_campaign(connection, self.campaign_id, Action.finish, now, finished_at=now)
        return "sent"

    def pause(self, reason: str, connection: sa.Connection | None = None) -> None:
        if connection is None:
            with self.writing() as own:
                return self.pause(reason, own)
        move_campaign(connection, self.campaign_id, Action.interrupt, self.clock(), message=reason)
        return None

    def let_go(self) -> None:
        """This process stops sending the campaign (whoever comes next may take it at once)."""
        with self.writing() as connection:
            ownership.release(connection, self.campaign_id, self.owner)

    # -- batches ----------------------------------------------------------------------------

    def answered(
        self, batch_id: int, subscriber_ids: Sequence[int], result: BatchResult, attempts: int
    ) -> None:
        with self.writing() as connection:
            ledger.finish_batch(
                connection,
                self.campaign_id,
                batch_id,
                subscriber_ids,
                result,
                attempts=attempts,
                now=self.clock(),
            )

    def in_doubt(self, batch_id: int, reason: str, *, pause: str | None = None) -> int:
        """The batch's request may have been accepted; with ``pause``, the campaign pauses
        with that reason in the same transaction."""
        with self.writing() as connection:
            count = ledger.mark_in_doubt(
                connection, self.campaign_id, batch_id, reason, self.clock()
            )
            if pause is not None:
                self.pause(pause, connection)
        return count

    def give_back(
        self, batch_id: int, reason: str, attempts: int, *, pause: str | None = None
    ) -> None:
        """Nothing of the batch went out: its rows go back to pending; with ``pause``, the
        campaign pauses with that reason in the same transaction."""
        with self.writing() as connection:
            ledger.give_back_batch(
                connection, self.campaign_id, batch_id, reason, attempts, self.clock()
            )
            if pause is not None:
                self.pause(pause, connection)

    def split(self, batch_id: int, parts: Sequence[Sequence[int]], reason: str) -> list[int]:
        with self.writing() as connection:
            return ledger.split_batch(
                connection, self.campaign_id, batch_id, parts, reason, self.clock()
            )

    def release_claimed(self, batch_id: int) -> None:
        """Give a claimed batch that will not go out now back to pending. Best effort: if the
        database is what failed, whoever takes the campaign over gives it back."""
        try:
            with self.writing() as connection:
                ledger.release_claimed(connection, self.campaign_id, batch_id)
        except sa.exc.SQLAlchemyError:
            pass

    def pending_left(self) -> bool:
        with self.reading() as connection:
            return ledger_reads.pending_left(connection, self.campaign_id)
