"""Shared by the signup and confirmation tests: a newsletter with public single and double
opt-in lists and a private one, a clock the test moves, and the outbox read back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import show_subscriber
from mailer.db.tables import consent_events, subscribers
from mailer.services.consent import Origin
from tests.conftest import Project

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FORM = Origin("signup form", "203.0.113.9")


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def configure(project: Project, text: str) -> None:
    with project.config.open("a", encoding="utf-8") as config:
        config.write("\n" + text + "\n")


def newsletter(project: Project, clock: Clock) -> Mailer:
    """weekly: public, single opt-in; daily: public, double opt-in; staff: private."""
    app = Mailer(project.settings(), clock=clock, environ={})
    create_list(app.engine, "weekly", title="Weekly", public=True)
    create_list(app.engine, "daily", title="Daily <Briefing>", double_opt_in=True, public=True)
    create_list(app.engine, "staff", title="Staff", public=False)
    return app


def outbox(app: Mailer) -> list[EmailMessage]:
    """Every message the outbox transport wrote for mail sent outside a campaign."""
    folder = app.settings.transport.outbox.dir / "test"
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    content: str = body.get_content()
    return content


def confirm_token(app: Mailer, message: EmailMessage) -> str:
    """The token of the confirmation link in a message's text part."""
    base = re.escape(app.settings.newsletter.base_url)
    found = re.findall(base + r"/confirm/([A-Za-z0-9_.-]+)", part(message, "plain"))
    assert len(found) == 1, found
    token: str = found[0]
    return token


def statuses(app: Mailer, email: str) -> dict[str, str]:
    detail = show_subscriber(app.engine, email)
    return {m.list_name: m.status for m in detail.memberships}


def consent(app: Mailer, email: str) -> list[tuple[str, str, str, str | None]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                consent_events.c.list_name,
                consent_events.c.action,
                consent_events.c.source,
                consent_events.c.ip,
            )
            .join(subscribers, subscribers.c.id == consent_events.c.subscriber_id)
            .where(subscribers.c.email_key == email.lower())
            .order_by(consent_events.c.id)
        ).all()
    return [(row.list_name, row.action, row.source, row.ip) for row in rows]


def subscriber_count(app: Mailer) -> int:
    with app.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar())
