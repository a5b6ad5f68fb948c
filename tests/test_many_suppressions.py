"""Years of bounces: a send still works, and leaves out exactly the suppressed, however many
addresses are suppressed (no query may bind one parameter per suppressed address)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from mailer.audience.addresses import address_hash
from mailer.db.engine import create_db_engine
from mailer.db.migrate import _alembic_config, migrate
from mailer.db.tables import suppressions
from tests.conftest import CliResult, Project
from tests.sending import fill_list

Cli = Callable[..., CliResult]

SUPPRESSED = 300_000
MEMBERS = 60
INSERT_ROWS = 20_000
# The suppressions table as it was before it had the email_key column.
SUPPRESSIONS_BEFORE_KEYS = sa.table(
    "suppressions",
    *(sa.column(name) for name in ("address_hash", "email", "reason", "detail", "created_at")),
)


def _suppress_many(engine: sa.Engine, emails: list[str], *, with_key: bool = True) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    table = suppressions if with_key else SUPPRESSIONS_BEFORE_KEYS
    with engine.begin() as connection:
        for start in range(0, len(emails), INSERT_ROWS):
            rows = []
            for email in emails[start : start + INSERT_ROWS]:
                row = {
                    "address_hash": address_hash(email.lower()),
                    "email": email,
                    "reason": "bounce",
                    "detail": "",
                    "created_at": now,
                }
                if with_key:
                    row["email_key"] = email.lower()
                rows.append(row)
            connection.execute(sa.insert(table), rows)


def _outbox(project: Project, campaign: dict[str, object]) -> set[str]:
    folder = project.root / "var" / "outbox" / f"campaign-{campaign['id']}"
    recipients = set()
    for message in folder.glob("*.eml"):
        for line in message.read_text(encoding="utf-8").splitlines():
            if line.startswith("To:"):
                recipients.add(line.split("<")[-1].rstrip(">").strip().lower())
    return recipients


def test_a_send_leaves_out_300000_suppressed_addresses_without_binding_them(
    db_project: Project, project_engine: sa.Engine, cli: Cli
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    members = fill_list(project_engine, MEMBERS)
    # A sixth of the members bounced long ago (one written in capitals), among 300,000 others.
    bounced = [email.upper() if n == 0 else email for n, email in enumerate(members[::6])]
    others = [f"gone{number}@bounced.example" for number in range(SUPPRESSED - len(bounced))]
    _suppress_many(project_engine, bounced + others)

    result = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err[-2000:]
    assert len(result.err) < 10_000  # no listing of suppressed addresses either way
    campaign = json.loads(result.out)
    wanted = set(members) - {email.lower() for email in bounced}
    assert campaign["counts"]["sent"] == len(wanted) == MEMBERS - MEMBERS // 6
    assert _outbox(db_project, campaign) == wanted


def test_suppressions_stored_before_the_upgrade_still_keep_people_out(
    db_project: Project, cli: Cli
) -> None:
    """A database made before suppressions had a key column: the upgrade fills it in."""
    url = db_project.settings().database.url
    engine = create_db_engine(url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0005")
    _suppress_many(engine, ["Reader1@Example.com", "reader2@example.com"], with_key=False)
    migrate(engine)
    assert cli("lists", "create", "weekly").code == 0
    fill_list(engine, 4)
    engine.dispose()

    result = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert _outbox(db_project, campaign) == {"reader0@example.com", "reader3@example.com"}


def test_an_erased_address_leaves_no_key_behind(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "ada@example.com", "-l", "weekly").code == 0
    assert cli("subscribers", "suppress", "Ada@Example.com", "--reason", "bounce").code == 0
    assert cli("subscribers", "forget", "ada@example.com", "--yes").code == 0
    engine = create_db_engine(db_project.settings().database.url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(suppressions.c.email, suppressions.c.email_key)).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(None, None)]
