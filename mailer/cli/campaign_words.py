"""A campaign as the command line shows it: its stored message (what happened) followed, when
it waits on the editor, by the command that moves it on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailer.cli.errors import resume_or_cancel

if TYPE_CHECKING:
    from mailer.delivery.campaigns import Campaign

# Ledger states of rows not yet sent: a cancelled campaign never sends them, so they are not
# pending (nor waiting) but not sent, and the command line says so.
UNSENT_STATES = ("waiting", "pending")


def not_sent(campaign: Campaign) -> int:
    """How many recipients a cancelled campaign will never send to (0 for any other)."""
    if campaign.status != "cancelled":
        return 0
    return sum(campaign.counts.get(state, 0) for state in UNSENT_STATES)


def counts_line(campaign: Campaign) -> str:
    """The ledger counts as words, with a cancelled campaign's unsent rows as "not_sent"."""
    unsent = not_sent(campaign)
    shown = {
        name: count
        for name, count in campaign.counts.items()
        if not (unsent and name in UNSENT_STATES)
    }
    if unsent:
        shown["not_sent"] = unsent
    return ", ".join(f"{name} {count}" for name, count in shown.items())


def campaign_message(campaign: Campaign) -> str:
    """The message, with what to run next for a paused or missed campaign."""
    message = campaign.message
    if campaign.status == "paused":
        hint = resume_or_cancel(campaign.id)
    elif campaign.status == "missed":
        hint = f"`mailer campaigns reschedule {campaign.id} --at WHEN` sends it after all."
    else:
        return message
    if not message:
        return hint
    # Under a message of several lines; else after it, as one more sentence.
    separator = "\n" if "\n" in message else " " if message.endswith(".") else ". "
    return f"{message}{separator}{hint}"


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """``counts`` stays the ledger's count per state, the same keys for every campaign (as the
    API gives them); ``not_sent`` says how many of those will never go out."""
    return campaign.as_json() | {
        "message": campaign_message(campaign),
        "not_sent": not_sent(campaign),
    }
