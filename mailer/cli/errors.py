"""The core's errors in the command line's words: a field becomes the option (or argument)
that gives it, and a campaign that could not start gets the commands that move it on."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from mailer.errors import FieldError, FieldErrors, MailerError

# Where each field comes from on the command line; a field not here (a setting such as
# newsletter.timezone) is named as it is.
OPTION_OF = {
    "at": "--at",
    "timezone": "--tz",
    "local_time": "--local-time",
    "to": "--to",
    "transport": "--transport",
    "list": "--list",
    "segment": "--segment",
    "cron": "--cron",
    "issues": "--issues",
    "schedule": "schedule name",
    "status": "--status",
    "again": "--again",
    "allow_draft": "--allow-draft",
    "map": "--map",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
}


@contextmanager
def fields_as_options(options: Mapping[str, str]) -> Iterator[None]:
    """Inside, a FieldError about a field in ``options`` names the option (or argument) that
    gives it instead: the core names its inputs neutrally, and one command's `--timezone` is
    another's `--tz`. Other errors pass unchanged."""
    try:
        yield
    except FieldError as exc:
        option = options.get(exc.field)
        if option is None:
            raise
        raise FieldError(option, exc.problem, exc.value) from None


def field_message(error: FieldError) -> str:
    if error.field == "campaign" and error.value is not None:
        return f"no campaign {error.value}; `mailer campaigns` lists them"
    option = OPTION_OF.get(error.field, error.field)
    said = option if error.value is None else f"{option} {error.value!r}"
    return f"{said}: {error.problem}"


def command_line_message(error: MailerError) -> str:
    """What the command line prints for ``error`` (after ``error: ``)."""
    if isinstance(error, FieldError):
        return field_message(error)
    if isinstance(error, FieldErrors):
        return "; ".join(field_message(each) for each in error.errors)
    # Only a command that loaded the module that raises each of these can meet it.
    services = sys.modules.get("mailer.services.campaigns")
    if services is not None and isinstance(error, services.NotStarted):
        return f"{error}\n{resume_or_cancel(error.campaign_id)}"
    guards = sys.modules.get("mailer.delivery.send_guards")
    if guards is not None and isinstance(error, guards.AlreadySent):
        return f"{error}; `--again` sends it anyway"
    if guards is not None and isinstance(error, guards.DraftIssue):
        return f"{error}; `--allow-draft` sends it anyway"
    recurring = sys.modules.get("mailer.scheduling.recurring")
    if recurring is not None and isinstance(error, recurring.ScheduleNameTaken):
        return (
            f"{error.source}: schedule {error.name!r} is also one added with `mailer "
            f"schedules add`; `mailer schedules remove {error.name}` or rename one"
        )
    return str(error)


def resume_or_cancel(campaign_id: int) -> str:
    return (
        f"`mailer campaigns resume {campaign_id}` continues "
        f"(or `mailer campaigns cancel {campaign_id}`)."
    )
