"""Attribute names stored in several spellings before names were case-insensitive are folded
into their lower-case name by the upgrade, so segments, templates and exports find them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from mailer.db.engine import create_db_engine
from mailer.db.migrate import _alembic_config, migrate
from mailer.db.tables import subscribers
from tests.conftest import CliResult, Project
from tests.conftest import show_json as show

Cli = Callable[..., CliResult]

STORED = {
    "ada@example.com": {"City": "Paris", "Tags": "ai;policy", "Name": "Countess", "plan": "pro"},
    "bo@example.com": {"City": "Lyon", "city": "Nice", "COUNTRY": "FR"},
    "cy@example.com": {"city": "Rome"},
}


def test_the_upgrade_folds_attribute_names_to_lower_case(db_project: Project, cli: Cli) -> None:
    engine = create_db_engine(db_project.settings().database.url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0007")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for email, attributes in STORED.items():
            connection.execute(
                sa.insert(subscribers).values(
                    email=email,
                    email_key=email,
                    name="",
                    attributes=attributes,
                    timezone=None,
                    created_at=now,
                    updated_at=now,
                )
            )
    migrate(engine)
    engine.dispose()

    assert show(cli, "ada@example.com")["attributes"] == {
        "city": "Paris",
        "tags": ["ai", "policy"],
        "name_attribute": "Countess",
        "plan": "pro",
    }
    # Where both spellings were stored, the lower-case one was already what counted.
    assert show(cli, "bo@example.com")["attributes"] == {"city": "Nice", "country": "FR"}
    assert show(cli, "cy@example.com")["attributes"] == {"city": "Rome"}
    assert cli("lists", "create", "weekly").code == 0
    added = cli("subscribers", "add", *STORED, "-l", "weekly")
    assert added.code == 0, added.err
    found = cli("subscribers", "--list", "weekly", "--segment", 'city = "Paris"', "--all", "--json")
    assert [row["email"] for row in json.loads(found.out)] == ["ada@example.com"]
    tagged = cli("subscribers", "--list", "weekly", "--segment", '"ai" in tags', "--all", "--json")
    assert [row["email"] for row in json.loads(tagged.out)] == ["ada@example.com"]
