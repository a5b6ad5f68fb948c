"""The report's chart geometry: time is the axis (hours with no event are columns of zero),
a long span is drawn in wider columns, never more than 48 of them, nothing is lost in the
grouping, the axis' top is a round number above the tallest column, and bars stay inside
the plot."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from mailer.web.admin._charts import (
    HOUR,
    MAX_BUCKETS,
    Row,
    bar_chart,
    buckets_of,
    nice_top,
    time_chart,
)

START = 1764946800  # 2025-12-05T15:00:00Z


@dataclass(frozen=True)
class Hour:
    hour: int
    human_opens: int = 0
    machine_opens: int = 0
    human_clicks: int = 0
    automated_clicks: int = 0


def test_hours_without_events_are_columns_of_zero() -> None:
    buckets, size = buckets_of([Hour(START, 2, 1), Hour(START + 3 * HOUR, 0, 0, 4, 1)])
    assert size == 1
    assert [bucket.label for bucket in buckets] == [
        "12-05 15:00",
        "12-05 16:00",
        "12-05 17:00",
        "12-05 18:00",
    ]
    assert [(bucket.opens, bucket.clicks) for bucket in buckets] == [(3, 0), (0, 0), (0, 0), (0, 5)]


def test_a_month_of_late_opens_is_drawn_a_day_a_column() -> None:
    hours = [Hour(START + day * 24 * HOUR + 5 * HOUR, 1) for day in range(30)]
    buckets, size = buckets_of(hours)
    assert size == 24 and len(buckets) <= MAX_BUCKETS
    assert sum(bucket.opens for bucket in buckets) == 30
    assert buckets[0].label == "12-05"


@given(
    st.lists(
        st.tuples(
            st.integers(0, 24 * 400),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda row: row[0],
    )
)
def test_nothing_is_lost_and_every_bar_is_inside_the_plot(
    rows: list[tuple[int, int, int, int, int]],
) -> None:
    hours = [Hour(START + offset * HOUR, *counts) for offset, *counts in sorted(rows)]
    chart = time_chart(hours, {})
    assert len(chart.buckets) <= MAX_BUCKETS
    assert sum(bucket.opens + bucket.clicks for bucket in chart.buckets) == sum(
        sum(counts) for _, *counts in rows
    )
    assert sum(bar.count for bar in chart.bars) == sum(sum(counts) for _, *counts in rows)
    for bar in chart.bars:
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
        assert chart.top - 0.01 <= bar.y and bar.y + bar.height <= chart.bottom + 0.01
    assert 1 <= len(chart.x_ticks) <= 6


@given(st.integers(0, 10**9))
def test_the_axis_top_is_round_and_above_the_peak(peak: int) -> None:
    top, step = nice_top(peak)
    assert top >= peak and top % step == 0 and top // step <= 5
    assert str(step).strip("0") in ("1", "2", "5")


def test_years_of_events_still_fit_the_columns() -> None:
    buckets, size = buckets_of([Hour(START, 1), Hour(START + 5 * 365 * 24 * HOUR, 0, 1)])
    assert len(buckets) <= MAX_BUCKETS and size > 720
    assert sum(bucket.opens for bucket in buckets) == 2


def test_bars_are_as_long_as_their_counts_and_long_labels_are_cut() -> None:
    chart = bar_chart([Row("a" * 200, 10), Row("Temporary \u00b7 Reputation", 5)])
    first, second = chart.bars
    assert second.width * 2 == first.width
    assert len(first.label) == 48 and first.label.endswith("\u2026")
    assert first.full_label == "a" * 200
    assert chart.height >= second.y + chart.bar_height
