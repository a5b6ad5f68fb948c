"""A campaign for tests that need one to exist: one confirmed reader added to a list, and
issue 87 scheduled to it two hours ahead through the core (the worker never starts it)."""

from __future__ import annotations

from mailer.app import Mailer
from mailer.audience.subscribers import add_subscribers
from mailer.services import sends


def scheduled_campaign(mailer: Mailer, list_name: str, reader: str = "reader@example.com") -> int:
    add_subscribers(mailer.engine, [reader], list_name, confirmed=True)
    when = sends.send_time(mailer, "+2h")
    assert when is not None
    plan = sends.plan(mailer, "87", list_name, again=True)  # each call one more campaign
    return sends.schedule(mailer, plan, when).id
