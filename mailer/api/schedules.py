"""``/schedules``: the recurring sends (from the config file and added with ``mailer
schedules add``), read with any token. Adding and removing one stays on the command line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from mailer.actions import schedules as actions
from mailer.api.auth import AppMailer, Reader
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.scheduling.recurring import Schedule

router = APIRouter(prefix="/schedules", tags=["schedules"])

# The names ``mailer schedules add`` takes, but those of dots alone ("." and ".." cannot be
# sent in a URL's path).
NAME_PATTERN = r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
NameInPath = Annotated[
    str,
    Path(
        max_length=100,
        pattern=NAME_PATTERN,
        description="The schedule's name: 1-100 letters, digits, '.', '_' or '-', not only dots.",
    ),
]


class ScheduleOut(BaseModel):
    name: str
    cron: str = Field(description="minute hour day month weekday, read in `zone`.")
    zone: str = Field(description="The IANA time zone of the cron times.")
    list: str = Field(description="The list each tick sends to.")
    segment: str | None = Field(description="Only members matching it; null for all.")
    transport: str | None = Field(description="Null: the default transport at each tick.")
    issues: Literal["next-ready"] = Field(
        description="Which issue a tick sends: the oldest ready one not yet sent to the list."
    )
    origin: Literal["config", "cli"] = Field(
        description="`config`: from the config file; `cli`: added with `mailer schedules`."
    )
    next_tick: datetime | None = Field(description="The next tick, in UTC; null if none.")
    next_tick_local: datetime | None = Field(
        description="The same moment in `zone`, with its offset."
    )
    last_tick: datetime | None = Field(description="The last tick acted on; null if none yet.")
    last_result: str = Field(description="What came of the last tick.")

    @classmethod
    def of(cls, schedule: Schedule, now: datetime) -> ScheduleOut:
        next_tick = schedule.next_tick(now)
        local = None if next_tick is None else next_tick.astimezone(ZoneInfo(schedule.zone))
        return cls(
            name=schedule.name,
            cron=schedule.cron,
            zone=schedule.zone,
            list=schedule.list_name,
            segment=schedule.segment,
            transport=schedule.transport,
            issues="next-ready",
            origin="config" if schedule.origin == "config" else "cli",
            next_tick=next_tick,
            next_tick_local=local,
            last_tick=schedule.last_tick_at,
            last_result=schedule.last_result,
        )


def _cursors(mailer: AppMailer) -> Cursors:
    return Cursors(mailer.signing_key, "schedules")


@router.get(
    "",
    summary="Recurring schedules, by name",
    response_model=Page[ScheduleOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_schedules(
    mailer: AppMailer, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ScheduleOut]:
    cursors = _cursors(mailer)
    after = None if cursor is None else cursors.decode(cursor, 1)[0]
    page = actions.schedule_page(mailer, principal, after=after, limit=limit)
    next_cursor = None if page.next_after is None else cursors.encode([page.next_after])
    now = mailer.clock()
    items = [ScheduleOut.of(schedule, now) for schedule in page.items]
    return Page[ScheduleOut](items=items, next_cursor=next_cursor)


@router.get(
    "/{name}",
    summary="A recurring schedule",
    response_model=ScheduleOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_schedule(mailer: AppMailer, principal: Reader, name: NameInPath) -> ScheduleOut:
    return ScheduleOut.of(actions.show_schedule(mailer, principal, name), mailer.clock())
