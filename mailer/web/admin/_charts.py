"""The geometry of the report's charts, drawn as SVG by the templates (``admin/_chart_*.html``)
so that every label passes through the templates' escaping, and styled by classes from a
stylesheet (the admin policy refuses inline styles). Nothing here knows of campaigns: a
chart is made from numbers and labels.

Both charts draw in a fixed viewBox that the page scales to its column, so they fit a
phone's 375 px as they do a desktop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

HOUR = 3600
# Bucket sizes in hours: the smallest that keeps the chart to MAX_BUCKETS columns is used, so
# a month of late opens is drawn a day per column rather than 720 hairlines.
BUCKET_HOURS = (1, 2, 3, 4, 6, 12, 24, 48, 168, 336, 720)
MAX_BUCKETS = 48
MAX_X_LABELS = 6
LABEL_CHARACTERS = 48


class HourCounts(Protocol):
    @property
    def hour(self) -> int: ...
    @property
    def human_opens(self) -> int: ...
    @property
    def machine_opens(self) -> int: ...
    @property
    def human_clicks(self) -> int: ...
    @property
    def automated_clicks(self) -> int: ...


@dataclass(frozen=True)
class Bucket:
    start: int
    """Seconds since 1970 (UTC)."""
    hours: int
    human_opens: int = 0
    machine_opens: int = 0
    human_clicks: int = 0
    automated_clicks: int = 0

    @property
    def opens(self) -> int:
        return self.human_opens + self.machine_opens

    @property
    def clicks(self) -> int:
        return self.human_clicks + self.automated_clicks

    @property
    def label(self) -> str:
        return time_label(self.start, self.hours)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    kind: str
    """Its class in the stylesheet (and what it counts)."""
    count: int
    label: str
    """What the bar stands for (shown as its tooltip)."""


@dataclass(frozen=True)
class Tick:
    at: float
    text: str
    major: bool = True
    """False: a label left out on a phone, where every other one is shown."""


@dataclass(frozen=True)
class TimeChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    buckets: list[Bucket]
    hours_per_bucket: int
    peak: int


def time_label(start: int, hours: int) -> str:
    moment = datetime.fromtimestamp(start, UTC)
    return moment.strftime("%m-%d") if hours >= 24 else moment.strftime("%m-%d %H:%M")


def nice_top(peak: int) -> tuple[int, int]:
    """The axis' top (at least ``peak``, at least 1) and its step, both round numbers."""
    if peak <= 4:
        return max(peak, 1), 1
    raw = peak / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return int(step * math.ceil(peak / step)), int(step)


def buckets_of(hours: Sequence[HourCounts]) -> tuple[list[Bucket], int]:
    """Every bucket from the first hour with events to the last (empty ones included, so the
    axis is time), and the hours each bucket holds."""
    if not hours:
        return [], 1
    first, last = hours[0].hour, hours[-1].hour
    for size in BUCKET_HOURS:
        # Columns of up to a day start on the clock's round hours (00:00, 06:00...): the
        # first may then reach back before the first event, one column more.
        origin = first - first % (size * HOUR) if size <= 24 else first
        count = (last - origin) // (size * HOUR) + 1
        if count <= MAX_BUCKETS:
            break
    else:  # years of events: as many hours a column as it takes
        size = -(-((last - first) // HOUR + 1) // MAX_BUCKETS)
        origin, count = first, (last - first) // (size * HOUR) + 1
    sums = [[0, 0, 0, 0] for _ in range(count)]
    for hour in hours:
        index = (hour.hour - origin) // (size * HOUR)
        for slot, value in enumerate(
            (hour.human_opens, hour.machine_opens, hour.human_clicks, hour.automated_clicks)
        ):
            sums[index][slot] += value
    buckets = [
        Bucket(origin + index * size * HOUR, size, *values) for index, values in enumerate(sums)
    ]
    return buckets, size


def time_chart(hours: Sequence[HourCounts], labels: dict[str, str]) -> TimeChart:
    """Two stacked bars per bucket: opens (by people, then machine opens on top) and clicks
    (by people, then automated clicks on top). ``labels`` names each kind for the tooltips."""
    width, height = 640, 280
    left, right, top, bottom = 60.0, 632.0, 12.0, 236.0
    buckets, size = buckets_of(hours)
    peak = max((max(bucket.opens, bucket.clicks) for bucket in buckets), default=0)
    axis_top, step = nice_top(peak)
    scale = (bottom - top) / axis_top
    slot = (right - left) / max(len(buckets), 1)
    bar = slot * 0.36
    bars: list[Rect] = []
    for index, bucket in enumerate(buckets):
        x = left + index * slot + slot * 0.12
        opens = (("human_opens", bucket.human_opens), ("machine_opens", bucket.machine_opens))
        clicks = (
            ("human_clicks", bucket.human_clicks),
            ("automated_clicks", bucket.automated_clicks),
        )
        for offset, parts in ((0.0, opens), (bar + slot * 0.04, clicks)):
            base = bottom
            for kind, count in parts:
                if count:
                    tall = count * scale
                    base -= tall
                    text = f"{bucket.label}: {count} {labels.get(kind, kind)}"
                    bars.append(Rect(x + offset, base, bar, tall, kind, count, text))
    y_ticks = [Tick(bottom - value * scale, str(value)) for value in range(0, axis_top + 1, step)]
    every = max(1, -(-len(buckets) // MAX_X_LABELS))
    x_ticks = [
        Tick(left + index * slot + slot / 2, bucket.label, index % (every * 2) == 0)
        for index, bucket in enumerate(buckets)
        if index % every == 0
    ]
    return TimeChart(
        width, height, left, right, top, bottom, bars, y_ticks, x_ticks, buckets, size, peak
    )


@dataclass(frozen=True)
class Row:
    label: str
    count: int


@dataclass(frozen=True)
class LabelledBar:
    y: float
    width: float
    label: str
    """Cut to LABEL_CHARACTERS (the table beside the chart has it whole)."""
    full_label: str
    count: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    bar_height: float
    bars: list[LabelledBar]


def shortened(text: str, limit: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def bar_chart(rows: Sequence[Row]) -> BarChart:
    """One horizontal bar per row, its label above it and its count after it, the longest
    bar filling the width but for room for the count."""
    width, left, row_height, bar_height = 400, 4.0, 46.0, 18.0
    longest = width - left - 48
    peak = max((row.count for row in rows), default=0) or 1
    bars = [
        LabelledBar(
            8 + index * row_height + 20,
            max(2.0, longest * row.count / peak),
            shortened(row.label),
            row.label,
            row.count,
        )
        for index, row in enumerate(rows)
    ]
    return BarChart(width, int(8 + len(rows) * row_height), left, bar_height, bars)
