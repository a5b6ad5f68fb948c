"""The worker's sending duty: campaigns in state ``sending`` with nobody sending them (started
by the worker's scheduler; or their sender was killed, crashed, lost its machine, or was told
to stop) are taken over and finished.
A campaign whose sender is alive is left to it; a paused one waits for an editor.

The worker runs one campaign at a time; ``stop`` (from a signal handler) lets the batch on the
wire finish and be recorded, then returns, leaving the campaign for the next start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.db.tables import campaigns
from mailer.delivery import ownership
from mailer.delivery.dispatcher import Dispatcher
from mailer.delivery.sending import NothingInDoubt, campaign_content, resolve_campaign
from mailer.delivery.settle import campaigns_with_doubt
from mailer.delivery.transports.base import Transport
from mailer.delivery.transports.factory import make_transport
from mailer.errors import MailerError
from mailer.scheduling.worker_presence import WorkerPresence

log = logging.getLogger("mailer.worker")
MIN_WAIT_SECONDS = 0.5

# A paused or failed campaign waits for its editor, in-doubt recipients and all.
AUTO_RESEND_STATES = ("sending", "sent")

TransportMaker = Callable[[str, Settings], Transport]


class CampaignRunner:
    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        link_key: bytes,
        *,
        clock: Clock = utc_now,
        transports: TransportMaker = make_transport,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.link_key = link_key
        self.clock = clock
        self.transports = transports
        self.me = ownership.this_process()
        # Tells the admin app a worker runs (written by run_forever; --once writes host:once).
        self.presence = WorkerPresence(engine, self.me, clock=clock)
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._current: Dispatcher | None = None
        self._reported: dict[int, str] = {}
        # Campaigns whose in-doubt rows were all decided, by their newest in-doubt batch then:
        # looked at again only when a newer batch falls in doubt (rows never fall in doubt
        # without one), so a decided campaign's ledger is not read at every poll.
        self._decided: dict[int, int] = {}

    def stop(self) -> None:
        """Stop after the batch in flight (safe to call from a signal handler)."""
        self._stopping.set()
        self._woken.set()
        current = self._current
        if current is not None:
            current.stop()

    def wake(self) -> None:
        """Look for campaigns now (a scheduled one just started)."""
        self._woken.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def unattended(self) -> list[int]:
        """Campaigns in state sending whose sender is gone (or was never started), except
        local-time ones whose next wave is not due yet."""
        now = self.clock()
        stale_after = self.settings.delivery.stale_after_seconds
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(campaigns.c.id, campaigns.c.owner, campaigns.c.heartbeat_at)
                .where(
                    campaigns.c.status == "sending",
                    sa.or_(campaigns.c.waiting_until.is_(None), campaigns.c.waiting_until <= now),
                )
                .order_by(campaigns.c.id)
            ).all()
        return [
            row.id
            for row in rows
            if ownership.is_free(row.owner, row.heartbeat_at, self.me, now, stale_after)
        ]

    def run_once(self) -> int:
        """Finish every unattended campaign (until stopped); returns how many were run."""
        if self.settings.delivery.resend_unconfirmed_in_doubt:
            self.resend_unconfirmed()
        ran = 0
        for campaign_id in self.unattended():
            if self.stopping:
                break
            if self.run_campaign(campaign_id) is not None:
                ran += 1
        return ran

    def resend_unconfirmed(self) -> list[int]:
        """Resend the in-doubt recipients SendGrid's events did not confirm, of campaigns that
        are sending or sent, once the quiet period is over (a paused or failed campaign waits
        for its editor). Returns the campaigns made to send again."""
        quiet = timedelta(minutes=self.settings.delivery.in_doubt_quiet_minutes)
        with self.engine.connect() as connection:
            doubtful = campaigns_with_doubt(connection, AUTO_RESEND_STATES)
        resent = []
        for campaign_id, newest in doubtful.items():
            if self._decided.get(campaign_id) == newest:
                continue
            try:
                done = resolve_campaign(
                    self.engine, campaign_id, resend=True, clock=self.clock, quiet=quiet
                )
            except NothingInDoubt:
                self._decided[campaign_id] = newest
                continue
            except MailerError as exc:  # moved by an editor meanwhile
                self._report(campaign_id, f"campaign {campaign_id}: {exc}")
                continue
            if done.not_before is not None:
                continue  # events may still confirm them: looked at again at the next poll
            self._decided[campaign_id] = newest
            log.info(
                "campaign %s: %s in-doubt recipients confirmed by SendGrid's events, %s resent",
                campaign_id,
                done.confirmed,
                done.count,
            )
            if done.count:
                resent.append(campaign_id)
        return resent

    def next_wave_in(self, poll_seconds: float) -> float:
        """Seconds until a local-time campaign's next wave is due, at most ``poll_seconds``."""
        with self.engine.connect() as connection:
            earliest = connection.execute(
                sa.select(sa.func.min(campaigns.c.waiting_until)).where(
                    campaigns.c.status == "sending"
                )
            ).scalar()
        if earliest is None:
            return poll_seconds
        seconds: float = (earliest - self.clock()).total_seconds()
        # At least a moment: a wave that is due but held by another sender (or that this
        # worker cannot resume) must not make the loop spin.
        return max(MIN_WAIT_SECONDS, min(poll_seconds, seconds))

    def run_forever(self, poll_seconds: float) -> None:
        log.info("worker %s started; looking for unattended campaigns every %ss", self.me,
                 poll_seconds)  # fmt: skip
        self.presence.announce()
        try:
            while not self.stopping:
                self._woken.clear()
                self.presence.renew()
                self.run_once()
                if not self.stopping:
                    self._woken.wait(self.next_wave_in(poll_seconds))
        finally:
            # Also when the loop died of an error: the process is stopping either way.
            self.presence.withdraw()
        log.info("worker %s stopped", self.me)

    def run_campaign(self, campaign_id: int) -> str | None:
        """Send what is left of a campaign; its state afterwards, or None if it could not
        be started (the reason is logged once)."""
        try:
            with self.engine.connect() as connection:
                transport_name = connection.execute(
                    sa.select(campaigns.c.transport).where(campaigns.c.id == campaign_id)
                ).scalar_one()
            transport = self.transports(transport_name, self.settings)
            content = campaign_content(self.engine, self.settings, campaign_id)
        except MailerError as exc:
            self._report(campaign_id, f"campaign {campaign_id} cannot be resumed: {exc}")
            return None
        dispatcher = Dispatcher(
            self.engine, transport, content, self.link_key, self.settings.delivery,
            clock=self.clock, misfire_grace_seconds=self.settings.schedule.misfire_grace_seconds,
        )  # fmt: skip
        self._current = dispatcher
        if self.stopping:  # a stop that came in before the dispatcher could hear it
            dispatcher.stop()
        log.info("campaign %s: resuming via %s", campaign_id, transport_name)
        try:
            status = dispatcher.run()
        except MailerError as exc:  # taken by another sender since it was listed
            self._report(campaign_id, f"campaign {campaign_id}: {exc}")
            return None
        finally:
            self._current = None
            transport.close()
        tally = dispatcher.tally
        log.info(
            "campaign %s: %s (this run: %s sent, %s failed, %s skipped, %s in doubt)",
            campaign_id, status, tally.sent, tally.failed, tally.skipped, tally.in_doubt,
        )  # fmt: skip
        self._reported.pop(campaign_id, None)
        return status

    def _report(self, campaign_id: int, message: str) -> None:
        # Said once per campaign and reason, not at every poll.
        if self._reported.get(campaign_id) != message:
            self._reported[campaign_id] = message
            log.warning("%s", message)
