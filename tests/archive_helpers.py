"""What the archive tests share: issues sent through the outbox by the real command line to a
reader whose name, address and attributes must never reach the archive, extra issues that use
every merge field, one kept out (``archive: false``) and one with a hostile subject."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.db.tables import campaigns
from tests.conftest import CliResult, Project
from tests.web_server import SIGNING_KEY

Cli = Callable[..., CliResult]

READER_EMAIL = "zoe.secret@example.com"
READER_NAME = "Zoë <script>alert('name')</script>"
READER_CITY = "Secretville"
OTHER_EMAIL = "max.private@example.com"
HOSTILE_SUBJECT = '<script>alert(91)</script> & "quotes"'
PERSONAL = (READER_EMAIL, "Zoë", "alert('name')", READER_CITY, OTHER_EMAIL, "zoe.secret")

MERGE_FIELDS_ISSUE = """---
number: 89
title: Letters from our readers
subject: "Tech in China #89: letters"
preheader: What you wrote to us this month.
date: 2018-12-02
template: feature
status: ready
---
Dear {{ subscriber.name }}, hello {{ subscriber.first_name }} from {{ subscriber.attributes.city }}.

We write to {{ subscriber.email }}; [leave]({{ subscriber.unsubscribe_url }}) or
[choose]({{ subscriber.preferences_url }}).
"""

HIDDEN_ISSUE = """---
number: 90
title: A note for members only
subject: "Tech in China #90: members only"
preheader: Not for the archive.
date: 2018-12-09
template: feature
status: ready
archive: false
---
Only for the people on the list.
"""

HOSTILE_ISSUE = f"""---
number: 91
title: "<img src=x onerror=alert('title')> Title"
subject: '{HOSTILE_SUBJECT}'
preheader: "<b>bold</b> preheader"
date: 2018-12-16
template: feature
status: ready
---
An issue with markup in its title and subject.
"""


@dataclass(frozen=True)
class Sent:
    project: Project
    campaigns: dict[int, int]
    """Campaign id by issue number."""


def send(cli: Cli, issue: str) -> int:
    # Issue 88 is a draft, and a test may send an issue again to see the newest send decide.
    sending = ("send", issue, "--list", "weekly", "--again", "--allow-draft", "--yes", "--json")
    result = cli(*sending, "--transport", "outbox")
    assert result.code == 0, result.err
    campaign_id: int = json.loads(result.out)["id"]
    return campaign_id


def send_issues(project: Project, cli: Cli, numbers: tuple[int, ...]) -> Sent:
    """Issues 87 and 88 (and the extra ones named) sent to two readers through the outbox."""
    project.write_issue("0089-letters.md", MERGE_FIELDS_ISSUE)
    project.write_issue("0090-members.md", HIDDEN_ISSUE)
    project.write_issue("0091-hostile.md", HOSTILE_ISSUE)
    assert cli("lists", "create", "weekly", "--title", "Tech in China Weekly", "--public").code == 0
    for email, name in ((READER_EMAIL, READER_NAME), (OTHER_EMAIL, "Max Private")):
        options = ["-l", "weekly", "--name", name, "--attr", f"city={READER_CITY}", "--confirmed"]
        added = cli("subscribers", "add", email, *options)
        assert added.code == 0, added.err
    return Sent(project, {number: send(cli, str(number)) for number in numbers})


@pytest.fixture
def sent(db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Sent:
    monkeypatch.setenv("MAILER_SECRET_KEY", SIGNING_KEY)
    return send_issues(db_project, cli, (87, 88, 89, 90, 91))


def copy_campaign(engine: sa.Engine, campaign_id: int, numbers: range, **changes: Any) -> None:
    """Rows like campaign ``campaign_id`` for each issue number (a long archive, quickly),
    each started a minute after the one before."""
    with engine.begin() as connection:
        row = connection.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).one()
        values = {key: value for key, value in row._mapping.items() if key != "id"}
        for step, number in enumerate(numbers):
            started = row.started_at + timedelta(minutes=step + 1)
            connection.execute(
                sa.insert(campaigns).values(
                    {
                        **values,
                        "issue_number": number,
                        "title": f"Issue number {number}",
                        "started_at": started,
                        **changes,
                    }
                )
            )
