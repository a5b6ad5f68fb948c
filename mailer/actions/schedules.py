"""Recurring schedules on behalf of a principal: read with ``read`` (adding and removing one
stays on the command line for now: a schedule sends, so it would need ``send``)."""

from __future__ import annotations

from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.scheduling.recurring import Schedule
from mailer.services import schedules


def schedule_page(
    mailer: Mailer, principal: Principal, *, after: str | None, limit: int
) -> Page[Schedule, str]:
    """Schedules by name after the one named ``after`` (from the first when None)."""
    principal.require(Permission.READ)
    found = schedules.schedule_page(mailer, after, check_limit(limit) + 1)
    return page_of(found, limit, lambda schedule: schedule.name)


def show_schedule(mailer: Mailer, principal: Principal, name: str) -> Schedule:
    principal.require(Permission.READ)
    return schedules.schedule_named(mailer, name)
