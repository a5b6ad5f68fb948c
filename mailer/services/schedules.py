"""Recurring sends: list, add and remove them. The config file's schedules are made the
table's first each time, so a name the file takes is refused for one added here, and what is
listed is what the worker acts on."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ValidationError

from mailer.app import Mailer
from mailer.audience.lists import find_list
from mailer.audience.segments import parse_segment
from mailer.config import RecurringSchedule
from mailer.delivery.transports.factory import check_transport_name
from mailer.errors import FieldError, FieldErrors, NotFoundError
from mailer.scheduling.recurring import (
    Schedule,
    add_schedule,
    all_schedules,
    find_schedule,
    remove_schedule,
    schedules_after,
    sync_config,
)
from mailer.scheduling.when import zone_named

SCHEDULE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def schedules(mailer: Mailer) -> list[Schedule]:
    """Every recurring schedule, from the config file and added here."""
    sync_config(mailer.engine, mailer.settings, mailer.clock)
    return all_schedules(mailer.engine)


def schedule_page(mailer: Mailer, after: str | None, limit: int) -> list[Schedule]:
    """Up to ``limit`` schedules by name after the one named ``after``, the config file's
    included."""
    sync_config(mailer.engine, mailer.settings, mailer.clock)
    return schedules_after(mailer.engine, after, limit)


def schedule_named(mailer: Mailer, name: str) -> Schedule:
    """The schedule named ``name`` (NotFoundError if there is none)."""
    sync_config(mailer.engine, mailer.settings, mailer.clock)
    with mailer.engine.connect() as connection:
        found = find_schedule(connection, name)
    if found is None:
        raise NotFoundError(f"no schedule named {name!r}")
    return found


def add(
    mailer: Mailer,
    name: str,
    *,
    cron: str,
    list_name: str,
    timezone: str | None = None,
    issues: Literal["next-ready"] = "next-ready",
    segment: str | None = None,
    transport: str | None = None,
    origin: Literal["cli"] = "cli",
) -> Schedule:
    """A schedule whose ticks ``mailer worker`` acts on; ``origin`` says it was not added in
    the config file (which keeps its own)."""
    if not SCHEDULE_NAME.fullmatch(name):
        raise FieldError("schedule", "use 1-100 letters, digits, '.', '_' or '-'", name)
    settings = mailer.settings
    # The config's schedules first, so a name taken there is refused here.
    sync_config(mailer.engine, settings, mailer.clock)
    zone = timezone or settings.newsletter.timezone
    zone_named(zone, "timezone" if timezone else "newsletter.timezone")
    if transport:
        check_transport_name(transport)
    if segment:
        parse_segment(segment)
    try:
        entry = RecurringSchedule(
            name=name,
            cron=cron,
            timezone=zone,
            list=list_name,
            issues=issues,
            segment=segment or "",
            transport=transport or "",
        )
    except ValidationError as exc:
        raise FieldErrors(
            [
                FieldError(str(error["loc"][0]), str(error["msg"]).removeprefix("Value error, "))
                for error in exc.errors()
            ]
        ) from None
    with mailer.engine.connect() as connection:
        find_list(connection, list_name)
    return add_schedule(mailer.engine, entry, zone, origin, mailer.clock)


def remove(mailer: Mailer, name: str) -> None:
    """Remove a schedule added outside the config file (the file's are removed there)."""
    sync_config(mailer.engine, mailer.settings, mailer.clock)
    remove_schedule(mailer.engine, name, mailer.settings)
