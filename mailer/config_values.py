"""Checks of single setting values: addresses, time zones, durations and cron lines."""

from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 86_400


def check_email(value: str) -> str:
    # Loaded here: its patterns take longer to compile than a short command runs, and only
    # a config that sets an address needs them.
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None
    return value


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as 'Asia/Shanghai'") from None
    return value


def check_proxy_address(value: str) -> str:
    """A proxy's address (``10.0.0.5``, ``::1``), a network (``10.0.0.0/8``) or ``*``,
    written the one way uvicorn reads it."""
    said = value.strip()
    if said == "*":
        return said
    try:
        if "/" in said:
            return str(ipaddress.ip_network(said, strict=False))
        return str(ipaddress.ip_address(said))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network such as '10.0.0.5' or '10.0.0.0/8'"
        ) from None


DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.ASCII)
SECONDS = re.compile(r"\d+(?:\.\d*)?|\.\d+", re.ASCII)
# Ten years: any longer is a typo, and would not fit in a date.
LONGEST_DURATION = 3653 * DAY_SECONDS


def duration_seconds(text: str) -> float:
    """``1h``, ``90m``, ``1h30m``, ``2d``, ``45s`` or a plain number of seconds, at most ten
    years."""
    said = text.strip()
    found = DURATION.fullmatch(said)
    if SECONDS.fullmatch(said):
        seconds = float(said)
    elif said and found is not None:
        days, hours, minutes, rest = (int(part or 0) for part in found.groups())
        seconds = float(((days * 24 + hours) * 60 + minutes) * 60 + rest)
    else:
        raise ValueError(f"{text!r} is not a duration such as '1h', '30m' or '1h30m'")
    if seconds > LONGEST_DURATION:
        raise ValueError(f"{text!r} is too long: at most ten years (3653d)")
    return seconds


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
NUMERIC_DAYS = re.compile(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?")


def _weekdays(field: str) -> str:
    """Cron's weekday field with cron's numbers (0 and 7 = Sunday) written as names:
    APScheduler reads numbers with 0 = Monday, so `1-5` would mean Tuesday to Saturday."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        found = NUMERIC_DAYS.fullmatch(part)
        if found is None:
            return field  # names (mon-fri) mean the same to both; leave them as written
        span, step = found.group(1), int(found.group(2) or 1)
        first, _, last = span.partition("-")
        low, high = (0, 7) if span == "*" else (int(first), int(last or first))
        if high > 7 or low > high or step < 1:
            raise ValueError(f"weekday {part!r}: give 0-7 (0 and 7 are Sunday) or names")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def scheduler_cron(value: str) -> str:
    """A five-field crontab line as APScheduler should read it (weekdays as names)."""
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"has {len(fields)} fields, not 5")
    return " ".join([*fields[:4], _weekdays(fields[4])])


def check_cron(value: str) -> str:
    """A five-field crontab line (minute hour day month weekday), read as cron reads it."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(scheduler_cron(value))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a cron expression (minute hour day month weekday, "
            f"e.g. '0 9 * * MON'): {exc}"
        ) from None
    return value
