"""``mailer worker``: the long-running service that fires scheduled and recurring sends and
finishes unattended campaigns."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from mailer.cli.context import app_context, loaded_objects_frozen


def worker_command(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Fire the scheduled and recurring sends that are due, finish what is "
            "unattended, then exit (for cron or a systemd timer).",
        ),
    ] = False,
    poll: Annotated[
        float,
        typer.Option(min=0.1, max=3600.0, help="Seconds between looks for unattended campaigns."),
    ] = 5.0,
) -> None:
    """Send scheduled campaigns and recurring schedules when due, and resume campaigns whose
    sender stopped (killed, crashed, restarted).

    SIGTERM or Ctrl-C stops it cleanly: the requests on the wire are finished and recorded, and
    the campaign is left for the next start.
    """
    from mailer.delivery.worker import CampaignRunner
    from mailer.scheduling.scheduler import Duties, Timekeeper
    from mailer.scheduling.worker_presence import RENEW_SECONDS

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Every job run (one a second: the reconcile) would be logged; what fired is logged by
    # mailer.scheduler itself.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    context = app_context(ctx)
    settings = context.settings
    runner = CampaignRunner(context.engine, settings, context.mailer.signing_key)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("mailer.worker").info(
            "%s: stopping after the batch in flight", signal.Signals(signum).name
        )
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if once:
        from mailer.scheduling.catch_up import run_once

        # Its row is left behind, so `mailer campaigns` and the dashboard know runs keep coming.
        with loaded_objects_frozen():
            run_once(runner, context.renderer)
        return
    timekeeper = Timekeeper(
        Duties(context.engine, settings, context.renderer, runner.me, runner.wake)
    )
    timekeeper.start()
    # Renewed from the timekeeper's thread too: a long send keeps the worker's loop busy.
    timekeeper.scheduler.add_job(
        runner.presence.renew, "interval", seconds=RENEW_SECONDS, id="presence", jobstore="local"
    )
    try:
        with loaded_objects_frozen():
            runner.run_forever(poll)
    finally:
        timekeeper.shutdown()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
