"""When a scheduled send goes out: the text an editor types for it, read in a time zone.

Accepted: ``2026-11-23T09:00`` and ``2026-11-23 09:00`` (seconds optional; a trailing ``Z`` or
``+08:00`` names the offset itself), ``today 18:00``, ``tomorrow 09:00``, and ``+2h``, ``+90m``,
``+1d``, ``+1w`` or sums of them (``+1h30m``). A wall-clock time the zone skips (the spring DST
gap) or passes twice (the autumn overlap) is refused with the two readings or the nearest valid
times, as is any time not in the future or more than ten years ahead. The result is in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.errors import FieldError

RELATIVE = re.compile(r"\+\s*((?:\d+\s*[wdhm]\s*)+)", re.IGNORECASE)
RELATIVE_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
DAY_WORD = re.compile(r"(today|tomorrow)\s+(\d{1,2}):(\d{2})", re.IGNORECASE)
ABSOLUTE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2}(?::\d{2})?)\s*(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)
FORMS = "2026-11-23T09:00, '2026-11-23 09:00', 'tomorrow 09:00' or +2h"
# Further ahead than any real plan, so a time past it is a typo (+99999999d). It also keeps
# every stored time clear of the year 9999, past which a campaign's time could not even be
# shown in a zone east of UTC.
HORIZON = timedelta(days=3653)
TOO_FAR = "give a time within the next ten years"


class WhenError(FieldError):
    """A send time (the field ``at``) or its zone that cannot be used."""


def _refused(said: str, problem: str) -> WhenError:
    return WhenError("at", problem, said)


def zone_named(name: str, field: str) -> ZoneInfo:
    """The zone called ``name``, or an error naming the field (or setting) it came from."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WhenError(
            field,
            "not an IANA time zone; write it like Asia/Shanghai, America/New_York or UTC",
            name,
        ) from None


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    utc = moment.astimezone(UTC)
    stamp = f"{utc.year:04d}-{utc:%m-%dT%H:%MZ}"
    try:
        local = moment.astimezone(zone)
    except OverflowError:  # the first or last day Python can hold, seen from another zone
        return stamp
    return f"{local.year:04d}-{local:%m-%d %H:%M} {local.tzname()} ({stamp})"


def local_time(day: date, clock: time, zone: ZoneInfo, said: str) -> datetime:
    """The one instant ``day clock`` names in ``zone``; refuses a wall-clock time the zone
    skips or passes twice."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # A skipped time does not survive the round trip through UTC; a doubled one has two
    # offsets, one per fold.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        before = (first - timedelta(hours=1)).astimezone(UTC)
        after = first.astimezone(UTC)
        raise _refused(
            said,
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks "
            f"jump forward that night); pick a time outside the gap, e.g. "
            f"{before.astimezone(zone):%Y-%m-%d %H:%M} or {after.astimezone(zone):%Y-%m-%d %H:%M}",
        )
    if first.utcoffset() != second.utcoffset():
        raise _refused(
            said,
            f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go "
            f"back that night); say which with an offset: "
            f"{first.isoformat(timespec='minutes')} or {second.isoformat(timespec='minutes')}",
        )
    return first.astimezone(UTC)


def _clock(hours: int, minutes: int, said: str) -> time:
    if hours > 23 or minutes > 59:
        raise _refused(said, f"{hours:02d}:{minutes:02d} is not a time of day")
    return time(hours, minutes)


def _absolute(found: re.Match[str], zone: ZoneInfo, said: str, now: datetime) -> datetime:
    day_text, clock_text, offset = found.groups()
    try:
        day = date.fromisoformat(day_text)
        parts = [int(part) for part in clock_text.split(":")]
        clock = _clock(parts[0], parts[1], said).replace(second=parts[2] if len(parts) > 2 else 0)
    except ValueError as exc:
        raise _refused(said, f"{exc}") from None
    try:
        if offset is None:
            return local_time(day, clock, zone, said)
        stamp = datetime.fromisoformat(f"{day_text}T{clock:%H:%M:%S}{offset.upper()}")
        return stamp.astimezone(UTC)
    except ValueError as exc:
        raise _refused(said, f"{exc}") from None
    except OverflowError:
        # Only the first and the last day Python can hold get here: read in UTC, they fall
        # outside its range.
        if day < now.date():
            raise _refused(said, f"{day_text} is in the past; give a later time") from None
        raise _refused(said, f"{day_text} is too far ahead; {TOO_FAR}") from None


def _relative(amounts: str, said: str) -> timedelta:
    delta = timedelta()
    try:
        for amount, unit in RELATIVE_PART.findall(amounts):
            delta += timedelta(**{UNITS[unit.lower()]: int(amount)})
    except (OverflowError, ValueError):  # more days than a timedelta holds, or digits
        raise _refused(said, f"too far ahead; {TOO_FAR}") from None
    if not delta:
        raise _refused(said, "that is now; say how far ahead, e.g. +2h")
    if delta > HORIZON:
        raise _refused(said, f"more than ten years ahead; {TOO_FAR}")
    return delta


def parse_when(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The UTC instant ``text`` names, read in ``zone``, which must be after ``now``."""
    said = text.strip()
    if relative := RELATIVE.fullmatch(said):
        return now.astimezone(UTC) + _relative(relative.group(1), said)
    if day_word := DAY_WORD.fullmatch(said):
        word, hours, minutes = day_word.groups()
        today = now.astimezone(zone).date()
        day = today + timedelta(days=1 if word.lower() == "tomorrow" else 0)
        moment = local_time(day, _clock(int(hours), int(minutes), said), zone, said)
    elif absolute := ABSOLUTE.fullmatch(said):
        moment = _absolute(absolute, zone, said, now)
    else:
        raise _refused(said, f"not a time this understands; write it as {FORMS}")
    if moment <= now:
        raise _refused(
            said,
            f"{_shown(moment, zone)} is in the past (it is now "
            f"{_shown(now.astimezone(UTC), zone)}); give a later time",
        )
    if moment - now > HORIZON:
        raise _refused(said, f"{_shown(moment, zone)} is more than ten years ahead; {TOO_FAR}")
    return moment
