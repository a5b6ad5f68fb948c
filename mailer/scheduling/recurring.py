"""Recurring schedules: a cron expression in a zone, a list, and the rule for which issue goes.

Schedules live in the ``schedules`` table: those from the config file (``origin = 'config'``,
kept in step with it by ``sync_config``) and those added on the command line. At each tick the
oldest issue with ``status: ready`` not yet sent to the list becomes a campaign due at the
tick, started at once. A tick is claimed with one conditional update of ``last_tick_at``, so of
several workers exactly one acts on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from mailer.catalog import catalog
from mailer.clock import Clock, utc_now
from mailer.config import RecurringSchedule, Settings, check_cron
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns, schedules
from mailer.delivery.campaign_states import Action
from mailer.delivery.campaigns import iso
from mailer.delivery.sending import SendPlan, plan_send
from mailer.errors import MailerError
from mailer.render.pipeline import Renderer
from mailer.scheduling.cron import CronSchedule, cron_trigger
from mailer.scheduling.one_off import insert_scheduled, shown, start_due

log = logging.getLogger("mailer.schedules")

# Campaigns that do not count as "sent to the list": the issue may go in a later tick. A
# campaign cancelled after it started counts as sent: part of the list has it.
NOT_SENT = ("cancelled", "missed")


class ScheduleNameTaken(MailerError):
    """A schedule in the config file has the name of one added outside it."""

    def __init__(self, source: object, name: str) -> None:
        self.source = source
        self.name = name
        super().__init__(
            f"{source}: schedule {name!r} is also one added outside the config file; remove "
            "that one or rename one of them"
        )

    def __reduce__(self) -> tuple[type[ScheduleNameTaken], tuple[object, str]]:
        return (type(self), (self.source, self.name))


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    zone: str
    list_name: str
    segment: str | None
    transport: str | None
    issues: str
    origin: str
    created_at: datetime
    last_tick_at: datetime | None
    last_result: str

    def trigger(self) -> CronSchedule:
        return cron_trigger(self.cron, self.zone)

    def next_tick(self, now: datetime) -> datetime | None:
        moment = self.trigger().get_next_fire_time(None, now)
        return None if moment is None else moment.astimezone(ZoneInfo("UTC"))

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.name,
            "cron": self.cron,
            "zone": self.zone,
            "list": self.list_name,
            "segment": self.segment,
            "transport": self.transport,
            "issues": self.issues,
            "origin": self.origin,
            "next_tick": iso(self.next_tick(now)),
            "last_tick": iso(self.last_tick_at),
            "last_result": self.last_result,
        }


def _schedule(row: Any) -> Schedule:
    return Schedule(
        row.name, row.cron, row.zone, row.list_name, row.segment, row.transport, row.issues,
        row.origin, row.created_at, row.last_tick_at, row.last_result,
    )  # fmt: skip


def all_schedules(engine: sa.Engine) -> list[Schedule]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schedules).order_by(schedules.c.name))
        return [_schedule(row) for row in rows]


def schedules_after(engine: sa.Engine, after: str | None, limit: int) -> list[Schedule]:
    """Up to ``limit`` schedules by name, those named after ``after`` (from the first when
    None): one page of a listing that neither skips nor repeats one added between pages."""
    query = sa.select(schedules).order_by(schedules.c.name).limit(limit)
    if after is not None:
        query = query.where(schedules.c.name > after)
    with engine.connect() as connection:
        return [_schedule(row) for row in connection.execute(query)]


def find_schedule(connection: sa.Connection, name: str) -> Schedule | None:
    row = connection.execute(sa.select(schedules).where(schedules.c.name == name)).first()
    return None if row is None else _schedule(row)


def add_schedule(
    engine: sa.Engine, entry: RecurringSchedule, zone: str, origin: str, clock: Clock = utc_now
) -> Schedule:
    check_cron(entry.cron)
    with write_transaction(engine) as connection:
        found = find_schedule(connection, entry.name)
        if found is not None:
            raise MailerError(
                f"a schedule named {entry.name!r} exists already ({found.cron}, list "
                f"{found.list_name!r}); remove it first or pick another name"
            )
        connection.execute(
            sa.insert(schedules).values(
                name=entry.name, cron=entry.cron, zone=entry.timezone or zone,
                list_name=entry.list, segment=entry.segment or None,
                transport=entry.transport or None, issues=entry.issues, origin=origin,
                created_at=clock(),
            )
        )  # fmt: skip
        found = find_schedule(connection, entry.name)
    assert found is not None
    return found


def remove_schedule(engine: sa.Engine, name: str, settings: Settings) -> None:
    with write_transaction(engine) as connection:
        found = find_schedule(connection, name)
        if found is None:
            known = connection.execute(sa.select(schedules.c.name).order_by(schedules.c.name))
            names = ", ".join(known.scalars())
            raise MailerError(f"no schedule named {name!r} (schedules: {names or 'none'})")
        if found.origin == "config":
            raise MailerError(
                f"schedule {name!r} comes from {settings.source or 'the config'} "
                "([[schedule.recurring]]); remove it there"
            )
        connection.execute(sa.delete(schedules).where(schedules.c.name == name))


def sync_config(engine: sa.Engine, settings: Settings, clock: Clock = utc_now) -> None:
    """Make the config file's schedules the table's ``config`` rows: new ones added, changed
    ones updated (their tick history kept), removed ones deleted."""
    wanted = {entry.name: entry for entry in settings.schedule.recurring}
    default_zone = settings.newsletter.timezone
    with write_transaction(engine) as connection:
        rows = {row.name: row for row in connection.execute(sa.select(schedules))}
        for name, row in rows.items():
            if row.origin == "config" and name not in wanted:
                connection.execute(sa.delete(schedules).where(schedules.c.name == name))
        for name, entry in wanted.items():
            values = {
                "cron": entry.cron, "zone": entry.timezone or default_zone,
                "list_name": entry.list, "segment": entry.segment or None,
                "transport": entry.transport or None, "issues": entry.issues,
            }  # fmt: skip
            if name not in rows:
                connection.execute(
                    sa.insert(schedules).values(
                        name=name, origin="config", created_at=clock(), **values
                    )
                )
            elif rows[name].origin == "cli":
                raise ScheduleNameTaken(settings.source, name)
            else:
                connection.execute(
                    sa.update(schedules).where(schedules.c.name == name).values(**values)
                )


def ticks_between(
    trigger: CronSchedule, start: datetime, end: datetime, previous: datetime | None = None
) -> Iterator[datetime]:
    """The trigger's fire times in (start, end], in UTC, each wall-clock time once: in the
    autumn hour the clocks pass twice, a 01:30 tick comes once, as with cron, not twice (two
    issues an hour apart). ``previous``: the tick acted on last, if any."""
    zone = trigger.timezone

    def wall(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(tzinfo=None)

    latest = wall(previous) if previous is not None else None
    step = timedelta(microseconds=1)
    moment = trigger.get_next_fire_time(None, start.astimezone(UTC) + step)
    while moment is not None and moment <= end:
        if latest is None or wall(moment) > latest:
            latest = wall(moment)
            yield moment.astimezone(UTC)
        # From UTC: adding to a zoned time drops its fold, and in the repeated hour that
        # finds the same tick again, for ever.
        moment = trigger.get_next_fire_time(moment, moment.astimezone(UTC) + step)


def due_tick(schedule: Schedule, now: datetime, grace: timedelta) -> tuple[datetime | None, bool]:
    """The latest tick not yet acted on, and whether it is too old (missed) to act on."""
    since = max(schedule.created_at, schedule.last_tick_at or schedule.created_at)
    trigger = schedule.trigger()
    last = schedule.last_tick_at
    recent = list(ticks_between(trigger, max(since, now - grace), now, last))
    if recent:
        return recent[-1], False
    # None within the grace: was there one before it, while nothing was running?
    missed = next(ticks_between(trigger, since, now, last), None)
    return (missed, True) if missed is not None else (None, False)


def next_ready_issue(engine: sa.Engine, settings: Settings, list_name: str) -> Path | None:
    """The oldest issue (by number) marked ready that was never sent to the list."""
    with engine.connect() as connection:
        taken = set(
            connection.execute(
                sa.select(campaigns.c.issue_number).where(
                    campaigns.c.list_name == list_name,
                    sa.or_(
                        campaigns.c.status.not_in(NOT_SENT), campaigns.c.started_at.is_not(None)
                    ),
                )
            ).scalars()
        )
    ready = []
    for entry in catalog(settings.paths.issues, settings.paths.templates):
        if entry.issue is None:
            log.warning("skipping %s: %s", entry.path, entry.error)
        elif entry.issue.meta.status == "ready" and entry.issue.number not in taken:
            ready.append((entry.issue.number, entry.path))
    return min(ready)[1] if ready else None


def claim_tick(connection: sa.Connection, name: str, tick: datetime, result: str) -> bool:
    """Whether this process is the one to act on ``tick`` (one conditional update)."""
    claimed = connection.execute(
        sa.update(schedules)
        .where(
            schedules.c.name == name,
            sa.or_(schedules.c.last_tick_at.is_(None), schedules.c.last_tick_at < tick),
        )
        .values(last_tick_at=tick, last_result=result)
    )
    return claimed.rowcount == 1


def record_result(engine: sa.Engine, name: str, result: str) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(schedules).where(schedules.c.name == name).values(last_result=result)
        )


def plan_tick(
    engine: sa.Engine, settings: Settings, schedule: Schedule, renderer: Renderer
) -> SendPlan | None:
    """The send plan for the next ready issue, or None when there is none."""
    path = next_ready_issue(engine, settings, schedule.list_name)
    if path is None:
        return None
    return plan_send(
        engine, settings, renderer, str(path), schedule.list_name,
        segment=schedule.segment, transport=schedule.transport,
    )  # fmt: skip


def run_tick(
    engine: sa.Engine,
    settings: Settings,
    renderer: Renderer,
    name: str,
    *,
    owner: str | None,
    clock: Clock = utc_now,
) -> str:
    """Act on the schedule's latest tick, once over all workers; returns what came of it
    (also kept as the schedule's ``last_result`` and logged)."""
    now = clock()
    with engine.connect() as connection:
        schedule = find_schedule(connection, name)
    if schedule is None:
        return f"schedule {name!r} is gone"
    grace = timedelta(seconds=settings.schedule.misfire_grace_seconds)
    tick, missed = due_tick(schedule, now, grace)
    if tick is None:
        return f"schedule {name!r}: no tick due"
    said = f"tick of {shown(tick, schedule.zone)}"
    try:
        plan = plan_tick(engine, settings, schedule, renderer)
    except MailerError as exc:
        plan, problem = None, f"{exc}"
    else:
        problem = "" if plan else f"no ready issue left to send to {schedule.list_name!r}"
    if missed:
        result = (
            f"{said} missed: nothing was running then, and it is now past the misfire grace "
            f"({settings.schedule.misfire_grace}); nothing was sent"
        )
    elif problem:
        result = f"{said}: nothing sent: {problem}"
    else:
        result = f"{said}: starting"
    # The claim and the campaign it makes are one transaction: a worker that dies before
    # the commit leaves the tick to the next, one that dies after leaves a due campaign.
    with write_transaction(engine) as connection:
        if not claim_tick(connection, name, tick, result):
            return f"{said}: taken by another worker"
        campaign_id = None
        if plan is not None:
            action, values = Action.schedule, dict[str, Any]()
            if missed:  # made missed from the start, to show what the tick would have sent
                action, values = Action.miss, {"message": result, "finished_at": now}
            campaign_id = insert_scheduled(
                connection, plan, tick, schedule.zone, now, action, schedule_name=name, **values
            )
    if missed or plan is None or campaign_id is None:
        log.log(logging.WARNING if missed or plan else logging.INFO, "schedule %s: %s", name,
                result)  # fmt: skip
        return result
    start = start_due(engine, settings, renderer, campaign_id, owner=owner, clock=clock)
    result = f"{said}: campaign {campaign_id} (#{plan.rendered.issue.number}) {start.outcome}" + (
        f": {start.message}" if start.message else ""
    )
    log.info("schedule %s: %s", name, result)
    record_result(engine, name, result)
    return result
