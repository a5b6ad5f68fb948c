"""The admin dashboard's words on the worker (``t.workers``), when none was seen lately."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkersText:
    none_seen: str = "No worker is running (none was seen, or the last one stopped)."
    silent_since: str = "No worker seen since {time}."
    why: str = (
        "Campaigns sent now and scheduled ones wait until a worker runs: start one on the "
        "server with the command mailer worker."
    )
    waiting: str = "{count} campaigns are sending or due and wait for it."


WORKERS_TEXT = WorkersText()
