"""A campaign as the command line shows it: its stored message (what happened) followed, when
it waits on the editor, by the command that moves it on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailer.cli.errors import resume_or_cancel

if TYPE_CHECKING:
    from mailer.delivery.campaigns import Campaign


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
    return campaign.as_json() | {"message": campaign_message(campaign)}
