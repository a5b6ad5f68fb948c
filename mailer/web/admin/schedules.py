"""Schedules (``/admin/schedules``): the recurring sends, 100 a page by name, each with its
cron expression and zone, list, issues rule, next tick (in its zone and in UTC) and last tick
and result. Read-only: they are added and removed with ``mailer schedules`` or in the config
file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import schedules as actions
from mailer.app import Mailer
from mailer.scheduling.recurring import Schedule
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._list_forms import query_text
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of

PATH = f"{PREFIX}/schedules"
PAGE_SIZE = 100
NAME_MAX = 100


@dataclass(frozen=True)
class ScheduleRow:
    schedule: Schedule
    next_utc: datetime | None
    next_local: datetime | None


def _row(schedule: Schedule, now: datetime) -> ScheduleRow:
    next_utc = schedule.next_tick(now)
    local = None if next_utc is None else next_utc.astimezone(ZoneInfo(schedule.zone))
    return ScheduleRow(schedule, next_utc, local)


@requires(Permission.READ)
def schedules_page(request: Request) -> Response:
    mailer: Mailer = request.app.state.mailer
    after = query_text(request, "after", NAME_MAX) or None
    page = actions.schedule_page(mailer, principal_of(request), after=after, limit=PAGE_SIZE)
    now = mailer.clock()
    return admin_page(
        request,
        "admin/schedules.html",
        principal_of(request),
        rows=[_row(schedule, now) for schedule in page.items],
        next_after=page.next_after,
        paged=after is not None,
        current="schedules",
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route(PATH, schedules_page, methods=["GET"], name="admin_schedules")]
