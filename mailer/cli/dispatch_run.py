"""Running a campaign's dispatcher in the foreground with a progress bar, shared by
``send``, ``campaigns resume`` and ``campaigns resolve --resend``."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mailer.cli.campaign_words import campaign_json, campaign_message
from mailer.cli.context import (
    AppContext,
    err_console,
    loaded_objects_frozen,
    out_console,
    print_json,
)
from mailer.delivery.campaigns import Campaign, show_campaign
from mailer.delivery.dispatcher import Dispatcher, Tally
from mailer.delivery.sending import campaign_content
from mailer.delivery.transports.base import Transport


def run_campaign(
    context: AppContext,
    campaign_id: int,
    transport: Transport,
    *,
    as_json: bool,
    total: int | None = None,
) -> int:
    """Send what is pending (``total`` rows, counted here when not given); prints the
    summary; returns the exit code (0 when sent)."""
    settings = context.settings
    engine = context.engine
    content = campaign_content(engine, settings, campaign_id)
    key = context.mailer.signing_key
    if total is None:
        total = show_campaign(engine, campaign_id).counts.get("pending", 0)
    started = time.monotonic()
    with Progress(
        TextColumn(f"campaign {campaign_id}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
        disable=as_json or not err_console().is_terminal,
    ) as progress:
        task = progress.add_task("send", total=total, detail="")

        def report(tally: Tally) -> None:
            done = tally.sent + tally.failed + tally.skipped + tally.in_doubt
            rate = tally.sent / max(time.monotonic() - started, 1e-6)
            detail = f"failed {tally.failed} · {rate:,.0f}/s"
            progress.update(task, completed=done, detail=detail)

        dispatcher = Dispatcher(
            engine, transport, content, key, settings.delivery, on_progress=report,
            misfire_grace_seconds=settings.schedule.misfire_grace_seconds,
        )  # fmt: skip
        try:
            with loaded_objects_frozen():
                status = dispatcher.run()
        finally:
            transport.close()
    campaign = show_campaign(engine, campaign_id)
    if as_json:
        print_json(campaign_json(campaign))
    else:
        print_summary(campaign, dispatcher.tally, time.monotonic() - started)
    return 0 if status == "sent" else 1


def print_summary(campaign: Campaign, tally: Tally, seconds: float) -> None:
    counts = campaign.counts
    out_console().print(
        f"Campaign {campaign.id} is {campaign.status}: {counts['sent']} of {counts['total']} "
        f"sent, {counts['failed']} failed, {counts['skipped']} skipped, "
        f"{counts['in_doubt']} in doubt, {counts['pending']} pending "
        f"({tally.sent} sent in {seconds:.1f} s by this run)."
    )
    if message := campaign_message(campaign):
        err_console().print(message, markup=False, highlight=False)
    if counts["in_doubt"]:
        err_console().print(
            f"{counts['in_doubt']} recipients are in doubt: their request may have been "
            f"accepted. Decide with `mailer campaigns resolve {campaign.id} --resend` or "
            "`--mark-sent`.",
            markup=False,
            highlight=False,
        )
