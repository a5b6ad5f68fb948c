"""Attribute names are case-insensitive wherever they are written: a CSV header, `--attr`, a
segment, a template. ``City``, ``city`` and ``CITY`` are one attribute, stored as ``city``."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import policy
from email.parser import BytesParser

import pytest
import sqlalchemy as sa

from mailer.db.tables import subscribers
from tests.conftest import CliResult, Project, show_json

Cli = Callable[..., CliResult]


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly").code == 0
    return cli


def _import(cli: Cli, project: Project, data: str) -> CliResult:
    (project.root / "in.csv").write_text(data, encoding="utf-8")
    return cli("subscribers", "import", "in.csv", "--list", "weekly", "--json")


def test_header_names_are_case_insensitive(db_project: Project, weekly: Cli) -> None:
    data = "EMAIL,Name,TimeZone,City,Tags\na@example.com,Ada,Asia/Shanghai,Paris,ai;policy\n"
    assert _import(weekly, db_project, data).code == 0
    assert _import(weekly, db_project, "Email,CITY\na@example.com,Rome\n").code == 0
    shown = show_json(weekly, "a@example.com")
    assert shown["name"] == "Ada" and shown["timezone"] == "Asia/Shanghai"
    assert shown["attributes"] == {"city": "Rome", "tags": ["ai", "policy"]}


def test_attribute_names_from_add_are_case_insensitive(db_project: Project, weekly: Cli) -> None:
    add = ("subscribers", "add", "a@example.com", "--list", "weekly")
    assert weekly(*add, "--attr", "City=Paris", "--attr", "TAGS=ai;chips").code == 0
    assert _import(weekly, db_project, "email,city\na@example.com,Rome\n").code == 0
    assert show_json(weekly, "a@example.com")["attributes"] == {
        "city": "Rome",
        "tags": ["ai", "chips"],
    }
    refused = weekly(*add, "--attr", "Name=x")
    assert refused.code == 1 and "attribute name 'Name'" in refused.err
    matched = weekly("subscribers", "--list", "weekly", "--segment", 'CITY = "Rome"', "--json")
    assert matched.code == 0 and '"a@example.com"' in matched.out


def test_templates_read_attributes_under_any_capitalisation(
    db_project: Project, weekly: Cli
) -> None:
    db_project.write_issue(
        "0090-hello.md",
        "---\nnumber: 90\ntitle: Hello\nsubject: Hello readers\npreheader: A short one.\n"
        "date: 2026-11-23\ntemplate: feature\nstatus: ready\n---\n"
        "From {{ subscriber.attributes.City }} and {{ subscriber.attributes.city }}.\n",
    )
    assert _import(weekly, db_project, "email,CITY\na@example.com,Paris\n").code == 0
    result = weekly("send", "90", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    folder = db_project.root / "var" / "outbox" / f"campaign-{json.loads(result.out)['id']}"
    [path] = folder.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert "From Paris and Paris." in message.get_body(("plain",)).get_content()


def test_names_stored_in_several_cases_before_still_export_a_file_that_imports(
    db_project: Project, weekly: Cli, project_engine: sa.Engine
) -> None:
    # What a database written before names were case-insensitive can hold.
    add = ("subscribers", "add", "a@example.com", "b@example.com", "--list", "weekly")
    assert weekly(*add).code == 0
    legacy = {
        "a@example.com": {"City": "Paris", "Name": "an attribute called Name"},
        "b@example.com": {"CITY": "Old", "city": "Rome", "Plan": "pro"},
    }
    with project_engine.begin() as connection:
        for email, attributes in legacy.items():
            connection.execute(
                sa.update(subscribers)
                .where(subscribers.c.email == email)
                .values(attributes=attributes)
            )
    exported = weekly("subscribers", "export", "--list", "weekly")
    assert exported.code == 0, exported.err
    assert exported.out.splitlines()[0] == "email,name,timezone,city,plan"
    assert weekly("lists", "create", "copy").code == 0
    (db_project.root / "out.csv").write_text(exported.out, encoding="utf-8")
    imported = weekly("subscribers", "import", "out.csv", "--list", "copy")
    assert imported.code == 0, imported.err
    again = weekly("subscribers", "export", "--list", "copy")
    assert again.out == exported.out
    assert exported.out.splitlines()[1:] == [
        "a@example.com,,,Paris,",
        "b@example.com,,,Rome,pro",
    ]
