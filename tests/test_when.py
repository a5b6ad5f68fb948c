"""The --at parser: absolute and relative times read in a zone, DST gaps and overlaps refused
with what to type instead, nothing in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.cli.errors import command_line_message
from mailer.scheduling.when import WhenError, parse_when

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = st.sampled_from(
    [ZoneInfo(name) for name in ("UTC", "Asia/Shanghai", "America/New_York", "Europe/London",
                                 "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata")]
)  # fmt: skip
FUTURE = st.datetimes(min_value=datetime(2026, 11, 24), max_value=datetime(2035, 12, 31))


def test_the_absolute_forms_are_read_in_the_zone() -> None:
    expected = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    for text in ("2026-11-24T09:00", "2026-11-24 09:00", " 2026-11-24 09:00:00 "):
        assert parse_when(text, SHANGHAI, NOW) == expected
    assert parse_when("2026-11-24T09:00Z", SHANGHAI, NOW) == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert parse_when("2026-11-24T09:00+01:00", SHANGHAI, NOW) == datetime(
        2026, 11, 24, 8, tzinfo=UTC
    )


def test_today_and_tomorrow_are_days_in_the_zone_not_in_utc() -> None:
    # 01:00 UTC is already 09:00 on the 23rd in Shanghai, but 20:00 on the 22nd in New York.
    assert parse_when("tomorrow 09:00", SHANGHAI, NOW) == datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert parse_when("today 18:00", SHANGHAI, NOW) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert parse_when("tomorrow 09:00", NEW_YORK, NOW) == datetime(2026, 11, 23, 14, tzinfo=UTC)


@given(st.integers(0, 3), st.integers(0, 500), st.integers(0, 50_000), ZONES)
def test_relative_times_are_exact_durations_from_now(
    days: int, hours: int, minutes: int, zone: ZoneInfo
) -> None:
    text = "+" + "".join(
        f"{amount}{unit}" for amount, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if amount
    )
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if not delta:
        with pytest.raises(WhenError):
            parse_when("+0h", zone, NOW)
        return
    assert parse_when(text, zone, NOW) == NOW + delta


@given(FUTURE, ZONES)
def test_every_local_time_that_exists_once_reads_back_as_itself(
    moment: datetime, zone: ZoneInfo
) -> None:
    moment = moment.replace(second=0, microsecond=0)
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    skipped = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment
    doubled = first.utcoffset() != second.utcoffset()
    for text in (f"{moment:%Y-%m-%dT%H:%M}", f"{moment:%Y-%m-%d %H:%M}"):
        if skipped or doubled:
            with pytest.raises(WhenError, match=r"does not exist|happens twice"):
                parse_when(text, zone, NOW)
        else:
            parsed = parse_when(text, zone, NOW)
            assert parsed.tzinfo == UTC
            assert parsed.astimezone(zone).replace(tzinfo=None) == moment


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 21)), ZONES)
def test_a_time_in_the_past_is_refused(moment: datetime, zone: ZoneInfo) -> None:
    with pytest.raises(WhenError, match="in the past"):
        parse_when(f"{moment:%Y-%m-%d %H:%M}", zone, NOW)


def _second_sunday(year: int, month: int) -> int:
    first_sunday = 1 + (6 - datetime(year, month, 1).weekday()) % 7
    return first_sunday + 7


@given(st.integers(2027, 2035), st.integers(0, 59))
def test_new_yorks_gap_and_overlap_hours_are_refused_every_year(year: int, minute: int) -> None:
    # US rules: forward at 02:00 on March's second Sunday, back at 02:00 on November's first.
    gap = f"{year}-03-{_second_sunday(year, 3):02d} 02:{minute:02d}"
    overlap = f"{year}-11-{_second_sunday(year, 11) - 7:02d} 01:{minute:02d}"
    with pytest.raises(WhenError, match="does not exist"):
        parse_when(gap, NEW_YORK, NOW)
    with pytest.raises(WhenError, match="happens twice"):
        parse_when(overlap, NEW_YORK, NOW)


def test_a_time_the_clocks_skip_is_refused_with_the_times_either_side() -> None:
    with pytest.raises(WhenError) as refused:
        parse_when("2027-03-14 02:30", NEW_YORK, NOW)
    assert "does not exist in America/New_York" in str(refused.value)
    assert "2027-03-14 01:30 or 2027-03-14 03:30" in str(refused.value)


def test_a_time_the_clocks_pass_twice_is_refused_with_both_readings() -> None:
    with pytest.raises(WhenError) as refused:
        parse_when("2027-11-07 01:30", NEW_YORK, NOW)
    assert "2027-11-07T01:30-04:00 or 2027-11-07T01:30-05:00" in str(refused.value)
    # Either reading, typed with its offset, is accepted.
    assert parse_when("2027-11-07T01:30-05:00", NEW_YORK, NOW) == datetime(
        2027, 11, 7, 6, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text", ["next week", "2026-11-24", "09:00", "tomorrow 25:00", "2026-02-30 09:00", "+", "+2x"]
)
def test_what_it_cannot_read_is_refused_with_the_forms_it_can(text: str) -> None:
    with pytest.raises(WhenError) as refused:
        parse_when(text, SHANGHAI, NOW)
    assert (refused.value.field, refused.value.value) == ("at", text)
    assert command_line_message(refused.value).startswith(f"--at {text!r}: ")


TOO_FAR_AHEAD = [
    *("+99999999d", "+999999999h", "+99999999999999999999w", "+3654d", "+1w99999999999m"),
    *("2037-01-01 09:00", "9999-12-31 23:59", "9999-12-31T23:59Z", "9999-12-31T23:59-14:00"),
]


@pytest.mark.parametrize("text", TOO_FAR_AHEAD)
def test_a_time_too_far_ahead_is_refused_naming_the_option(text: str) -> None:
    # Year 9999 in a zone east of UTC is past the last date Python can hold: it used to be
    # stored, and then every `mailer campaigns` listing crashed on it.
    for zone in (SHANGHAI, NEW_YORK, ZoneInfo("Pacific/Kiritimati")):
        with pytest.raises(WhenError, match=r"(too far|ten years)") as refused:
            parse_when(text, zone, NOW)
        assert command_line_message(refused.value).startswith(f"--at {text!r}: ")


@pytest.mark.parametrize(
    "text", ["0001-01-01 00:00", "0001-01-01T00:00Z", "0001-01-01 00:00:00+14:00"]
)
def test_the_first_day_python_knows_is_in_the_past_in_every_zone(text: str) -> None:
    for zone in (SHANGHAI, NEW_YORK, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")):
        with pytest.raises(WhenError, match=r"in the past") as refused:
            parse_when(text, zone, NOW)
        assert command_line_message(refused.value).startswith(f"--at {text!r}: ")


@given(
    st.lists(
        st.tuples(st.integers(0, 10**30), st.sampled_from("wdhmWDHM")), min_size=1, max_size=4
    ),
    ZONES,
)
def test_any_relative_time_is_within_ten_years_or_refused(
    parts: list[tuple[int, str]], zone: ZoneInfo
) -> None:
    text = "+" + "".join(f"{amount}{unit}" for amount, unit in parts)
    try:
        moment = parse_when(text, zone, NOW)
    except WhenError as refused:
        assert command_line_message(refused).startswith(f"--at {text!r}: ")
        return
    assert NOW < moment <= NOW + timedelta(days=3653)


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    st.sampled_from(["", "Z", "+14:00", "-12:00", "+00:00"]),
    ZONES,
)
def test_any_date_python_can_hold_is_read_or_refused_with_a_message(
    moment: datetime, offset: str, zone: ZoneInfo
) -> None:
    text = moment.isoformat(timespec="minutes") + offset
    try:
        parsed = parse_when(text, zone, NOW)
    except WhenError as refused:
        assert refused.field == "at"
        assert command_line_message(refused).startswith("--at ")
        return
    assert NOW < parsed <= NOW + timedelta(days=3653)
