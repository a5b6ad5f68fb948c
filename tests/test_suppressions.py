"""Unsubscribe, suppress, unsuppress and forget: who may be mailed, and what is left after."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from tests.conftest import CliResult, Project
from tests.conftest import show_json as show

Cli = Callable[..., CliResult]


@pytest.fixture
def two_lists(db_project: Project, cli: Cli) -> Cli:
    for name in ("weekly", "daily"):
        assert cli("lists", "create", name).code == 0
        result = cli("subscribers", "add", "ada@example.com", "bo@example.com", "-l", name)
        assert result.code == 0, result.err
    return cli


def statuses(cli: Cli, email: str) -> dict[str, str]:
    return {entry["list"]: entry["status"] for entry in show(cli, email)["lists"]}


def add_outcome(cli: Cli, email: str, list_name: str) -> tuple[int, str]:
    result = cli("subscribers", "add", email, "-l", list_name, "--json")
    return result.code, json.loads(result.out)[0]["outcome"]


def test_unsubscribe_from_one_list_leaves_the_others(two_lists: Cli) -> None:
    result = two_lists("subscribers", "unsubscribe", "Ada@Example.com", "--list", "weekly")
    assert result.code == 0 and "from weekly" in result.out
    assert statuses(two_lists, "ada@example.com") == {
        "daily": "confirmed",
        "weekly": "unsubscribed",
    }
    assert show(two_lists, "ada@example.com")["suppression"] is None
    # Adding them back to that list does not resubscribe them; the other list is untouched.
    assert add_outcome(two_lists, "ada@example.com", "weekly") == (1, "unsubscribed")
    assert statuses(two_lists, "ada@example.com")["weekly"] == "unsubscribed"


def test_unsubscribe_from_everything_is_a_global_suppression(two_lists: Cli) -> None:
    result = two_lists("subscribers", "unsubscribe", "ada@example.com")
    assert result.code == 0 and "daily, weekly" in result.out
    assert set(statuses(two_lists, "ada@example.com").values()) == {"unsubscribed"}
    assert show(two_lists, "ada@example.com")["suppression"]["reason"] == "unsubscribe"
    assert two_lists("lists", "create", "monthly").code == 0
    assert add_outcome(two_lists, "ada@example.com", "monthly") == (1, "suppressed")
    assert "monthly" not in statuses(two_lists, "ada@example.com")


def test_unsubscribe_errors(two_lists: Cli) -> None:
    unknown = two_lists("subscribers", "unsubscribe", "nobody@example.com")
    assert unknown.code == 1 and "nobody@example.com" in unknown.err
    assert two_lists("lists", "create", "monthly").code == 0
    not_on = two_lists("subscribers", "unsubscribe", "ada@example.com", "-l", "monthly")
    assert not_on.code == 1 and "is not on the list 'monthly'" in not_on.err
    bad = two_lists("subscribers", "unsubscribe", "not an address")
    assert bad.code == 1 and "'not an address'" in bad.err


def test_suppress_blocks_every_list_until_lifted(two_lists: Cli) -> None:
    result = two_lists(
        "subscribers", "suppress", "BO@example.com", "--reason", "bounce", "--detail", "550 gone"
    )
    assert result.code == 0
    suppression = show(two_lists, "bo@example.com")["suppression"]
    assert (suppression["reason"], suppression["detail"]) == ("bounce", "550 gone")
    again = two_lists("subscribers", "suppress", "bo@example.com", "--reason", "manual")
    assert again.code == 0 and "Already suppressed" in again.out
    assert two_lists("lists", "create", "monthly").code == 0
    assert add_outcome(two_lists, "bo@example.com", "monthly") == (1, "suppressed")
    lifted = two_lists("subscribers", "unsuppress", "bo@example.com")
    assert lifted.code == 0 and "bounce" in lifted.out
    assert show(two_lists, "bo@example.com")["suppression"] is None
    assert add_outcome(two_lists, "bo@example.com", "monthly") == (0, "imported")


def test_an_address_can_be_suppressed_before_it_is_ever_added(two_lists: Cli) -> None:
    result = two_lists("subscribers", "suppress", "spam@example.org", "--reason", "spamreport")
    assert result.code == 0
    assert add_outcome(two_lists, "spam@example.org", "weekly") == (1, "suppressed")


def test_suppression_errors(two_lists: Cli) -> None:
    bad_reason = two_lists("subscribers", "suppress", "bo@example.com", "--reason", "angry")
    assert bad_reason.code == 1
    assert "'angry'" in bad_reason.err and "bounce" in bad_reason.err
    missing = two_lists("subscribers", "unsuppress", "ada@example.com")
    assert missing.code == 1 and "ada@example.com" in missing.err
    assert two_lists("subscribers", "suppress", "bo@example.com").code == 2  # --reason needed


def _every_stored_text(url: str) -> str:
    engine = open_database(url)
    try:
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            dump = [
                repr(tuple(row))
                for table in names
                for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
            ]
    finally:
        engine.dispose()
    return "\n".join(dump).lower()


def test_forget_erases_the_person_but_keeps_them_out(
    two_lists: Cli, db_project: Project, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        two_lists(
            "subscribers",
            "add",
            "ada@example.com",
            "-l",
            "weekly",
            "--name",
            "Ada Lin",
            "--attr",
            "city=Shanghai",
        ).code
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    refused = two_lists("subscribers", "forget", "ada@example.com")
    assert refused.code == 1 and "Erase ada@example.com" in refused.out  # asked; "n" aborts
    assert show(two_lists, "ada@example.com")["name"] == "Ada Lin"
    result = two_lists("subscribers", "forget", "ADA@example.com", "--yes")
    assert result.code == 0
    assert two_lists("subscribers", "show", "ada@example.com").code == 1
    stored = _every_stored_text(database_url)
    assert "ada@example.com" not in stored and "ada lin" not in stored
    assert "shanghai" not in stored
    assert hashlib.sha256(b"ada@example.com").hexdigest() in stored
    # A later import or add cannot bring the address back by accident.
    assert add_outcome(two_lists, "ada@example.com", "daily") == (1, "suppressed")
    (db_project.root / "back.csv").write_text("email\nAda@example.com\n", encoding="utf-8")
    imported = two_lists("subscribers", "import", "back.csv", "-l", "weekly", "--json")
    assert json.loads(imported.out)["suppressed"] == 1
    assert "bo@example.com" in _every_stored_text(database_url)


def test_forget_keeps_an_earlier_suppression_reason(two_lists: Cli, database_url: str) -> None:
    assert two_lists("subscribers", "suppress", "bo@example.com", "--reason", "bounce").code == 0
    assert two_lists("subscribers", "forget", "bo@example.com", "-y").code == 0
    stored = _every_stored_text(database_url)
    assert "bo@example.com" not in stored and "bounce" in stored
