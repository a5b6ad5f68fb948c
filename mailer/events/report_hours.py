"""A campaign's opens and clicks hour by hour, with machine opens and automated clicks apart
(what a report's chart draws), from the tallies kept as events are stored: a few hundred
rows, never the events themselves."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from mailer.events import report_queries


@dataclass(frozen=True)
class EngagementHour:
    hour: int
    """The hour's start, seconds since 1970 (UTC)."""
    opens: int
    machine_opens: int
    """Of ``opens``, those SendGrid marked as a machine's."""
    clicks: int
    automated_clicks: int
    """Of ``clicks``, those judged automated (a link scanner's)."""

    @property
    def human_opens(self) -> int:
        return self.opens - self.machine_opens

    @property
    def human_clicks(self) -> int:
        return self.clicks - self.automated_clicks


def engagement_hours(engine: sa.Engine, campaign_id: int) -> list[EngagementHour]:
    """Each hour with at least one open or click, in order; hours with none are left out."""
    with engine.connect() as connection:
        tallied = report_queries.tallies(connection, campaign_id)
    found: dict[int, dict[str, int]] = {}
    for tally in tallied:
        if tally.kind in ("open", "click"):
            hour = found.setdefault(tally.hour, {})
            hour[tally.kind] = hour.get(tally.kind, 0) + tally.events
            machine = f"machine_{tally.kind}"
            hour[machine] = hour.get(machine, 0) + tally.machine_events
    return [
        EngagementHour(
            hour,
            counts.get("open", 0),
            counts.get("machine_open", 0),
            counts.get("click", 0),
            counts.get("machine_click", 0),
        )
        for hour, counts in sorted(found.items())
    ]
