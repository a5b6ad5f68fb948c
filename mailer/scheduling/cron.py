"""Cron expressions read as cron reads them, as APScheduler triggers.

One rule differs between the two. When both the day-of-month and the day-of-week field are
restricted (neither starts with ``*``), cron runs on days matching *either* field
(``0 0 1,15 * FRI``: the 1st, the 15th and every Friday); APScheduler's CronTrigger wants
*both*, so ``0 0 29 2 MON`` would next fire in 2044. Such an expression becomes two triggers,
one per day field, firing at whichever comes first.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from mailer.config import scheduler_cron


class EitherDayTrigger(OrTrigger):  # type: ignore[misc]
    """Fires at the earliest of its day-of-month and day-of-week triggers (same zone)."""

    __slots__ = ()

    @property
    def timezone(self) -> tzinfo:
        # Derived, not stored: OrTrigger's pickled state (the worker's job store) keeps only
        # its triggers.
        zone: tzinfo = self.triggers[0].timezone
        return zone


class CronSchedule(Protocol):
    """What the schedules need of a trigger: its zone and its next fire time."""

    @property
    def timezone(self) -> tzinfo: ...

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...


def days_are_either(cron: str) -> bool:
    """Whether cron reads the expression's two day fields as "either" (both restricted)."""
    fields = cron.split()
    return len(fields) == 5 and not fields[2].startswith("*") and not fields[4].startswith("*")


def cron_trigger(cron: str, zone: str) -> CronSchedule:
    minute, hour, day, month, weekday = scheduler_cron(cron).split()
    timezone = ZoneInfo(zone)

    def trigger(day: str, weekday: str) -> CronTrigger:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone
        )

    if not days_are_either(cron):
        single: CronSchedule = trigger(day, weekday)
        return single
    return EitherDayTrigger([trigger(day, "*"), trigger("*", weekday)])

