"""Every command that changes something answers ``--json`` with one object saying what it did
(ids, counts, the new state): each is parsed here and checked against what the database now
holds. A refusal still says why on stderr, with exit code 1 and nothing on stdout."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.accounts.login import log_in
from mailer.accounts.sessions import active_sessions
from mailer.accounts.tokens import list_tokens
from mailer.accounts.users import find_user
from mailer.app import Mailer
from mailer.audience.addresses import require_address
from mailer.audience.lists import all_lists
from mailer.audience.subscribers import add_subscribers, show_subscriber
from mailer.audience.suppressions import find_suppression
from mailer.delivery.campaigns import show_campaign
from mailer.errors import NotFoundError
from mailer.services.schedules import schedules
from tests.account_helpers import PASSWORD, cheap_hashing
from tests.conftest import CliResult, Project

__all__ = ["cheap_hashing"]  # fixtures
Cli = Callable[..., CliResult]


@pytest.fixture
def app(db_project: Project) -> Iterator[Mailer]:
    """The application on the project's database, to read what the commands stored."""
    mailer = Mailer(db_project.settings(), environ={})
    yield mailer
    mailer.close()


def answer(result: CliResult) -> Any:
    """What a command printed on stdout, which must be JSON and all of it."""
    assert result.code == 0, result.err
    return json.loads(result.out)


def statuses(engine: sa.Engine, email: str) -> dict[str, str]:
    return {m.list_name: m.status for m in show_subscriber(engine, email).memberships}


def suppression_reason(engine: sa.Engine, email: str) -> str | None:
    with engine.connect() as connection:
        found = find_suppression(connection, require_address(email).key)
    return None if found is None else found.reason


@pytest.fixture
def members(db_project: Project, cli: Cli) -> None:
    for name in ("weekly", "monthly"):
        assert cli("lists", "create", name).code == 0
        added = cli(
            "subscribers", "add", "ann@example.com", "bo@example.com", "-l", name, "--confirmed"
        )
        assert added.code == 0, added.err


def test_unsubscribe_suppress_unsuppress_and_forget(members: None, app: Mailer, cli: Cli) -> None:
    engine = app.engine
    assert answer(
        cli("subscribers", "unsubscribe", "Ann@example.com", "-l", "weekly", "--json")
    ) == {
        "email": "Ann@example.com",
        "unsubscribed_from": ["weekly"],
        "suppressed": False,
    }
    assert statuses(engine, "ann@example.com") == {"weekly": "unsubscribed", "monthly": "confirmed"}
    everywhere = answer(cli("subscribers", "unsubscribe", "bo@example.com", "--json"))
    assert everywhere["unsubscribed_from"] == ["monthly", "weekly"] and everywhere["suppressed"]
    assert set(statuses(engine, "bo@example.com").values()) == {"unsubscribed"}
    assert suppression_reason(engine, "bo@example.com") == "unsubscribe"

    suppressed = cli("subscribers", "suppress", "ann@example.com", "--reason", "bounce", "--json")
    assert answer(suppressed) == {"email": "ann@example.com", "suppressed": True, "added": True}
    assert suppression_reason(engine, "ann@example.com") == "bounce"
    again = cli("subscribers", "suppress", "ann@example.com", "--reason", "manual", "--json")
    assert answer(again)["added"] is False
    assert suppression_reason(engine, "ann@example.com") == "bounce"

    lifted = answer(cli("subscribers", "unsuppress", "ann@example.com", "--json"))
    assert lifted["suppressed"] is False and lifted["lifted"]["reason"] == "bounce"
    assert suppression_reason(engine, "ann@example.com") is None

    erased = answer(cli("subscribers", "forget", "ann@example.com", "--yes", "--json"))
    assert erased == {"email": "ann@example.com", "erased": True, "hash_suppressed": True}
    with pytest.raises(NotFoundError):
        show_subscriber(engine, "ann@example.com")


def test_confirm_answers_whether_it_changed_anything(
    db_project: Project, app: Mailer, cli: Cli
) -> None:
    assert cli("lists", "create", "weekly", "--double-opt-in").code == 0
    add_subscribers(app.engine, ["cy@example.com"], "weekly")  # no confirmation mail sent
    first = answer(cli("subscribers", "confirm", "cy@example.com", "-l", "weekly", "--json"))
    assert first == {
        "email": "cy@example.com",
        "list": "weekly",
        "status": "confirmed",
        "changed": True,
    }
    assert statuses(app.engine, "cy@example.com") == {"weekly": "confirmed"}
    second = answer(cli("subscribers", "confirm", "cy@example.com", "-l", "weekly", "--json"))
    assert second["changed"] is False


def test_lists_delete_counts_what_went(members: None, app: Mailer, cli: Cli) -> None:
    assert cli("subscribers", "unsubscribe", "bo@example.com", "-l", "weekly").code == 0
    deleted = answer(cli("lists", "delete", "weekly", "--yes", "--json"))
    assert deleted == {"name": "weekly", "deleted": True, "memberships": 2, "unsubscribes_kept": 1}
    assert [mailing_list.name for mailing_list in all_lists(app.engine)] == ["monthly"]


def test_a_question_asked_with_json_goes_to_stderr(
    members: None, app: Mailer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    deleted = cli("lists", "delete", "monthly", "--json")
    assert json.loads(deleted.out)["memberships"] == 2
    assert "Delete the list 'monthly'" in deleted.err
    assert [mailing_list.name for mailing_list in all_lists(app.engine)] == ["weekly"]


def test_campaign_pause_resume_and_cancel(members: None, app: Mailer, cli: Cli) -> None:
    scheduled = answer(cli("send", "87", "--list", "weekly", "--at", "+2h", "--yes", "--json"))
    campaign_id = scheduled["id"]
    paused = answer(cli("campaigns", "pause", str(campaign_id), "--json"))
    assert (paused["id"], paused["status"]) == (campaign_id, "paused")
    assert show_campaign(app.engine, campaign_id).status == "paused"
    # Paused before its time: resuming schedules it again, and nothing is sent here.
    resumed = answer(cli("campaigns", "resume", str(campaign_id), "--json"))
    assert (resumed["status"], resumed["scheduled_at"]) == ("scheduled", scheduled["scheduled_at"])
    assert show_campaign(app.engine, campaign_id).status == "scheduled"
    cancelled = answer(cli("campaigns", "cancel", str(campaign_id), "--json"))
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["sent"] == 0
    assert show_campaign(app.engine, campaign_id).status == "cancelled"

    refused = cli("campaigns", "pause", str(campaign_id), "--json")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err.startswith("error: ")


def test_schedules_remove(members: None, app: Mailer, cli: Cli) -> None:
    added = cli("schedules", "add", "mondays", "--cron", "0 9 * * MON", "--list", "weekly")
    assert added.code == 0, added.err
    assert answer(cli("schedules", "remove", "mondays", "--json")) == {
        "name": "mondays",
        "removed": True,
    }
    assert [schedule.name for schedule in schedules(app)] == []
    missing = cli("schedules", "remove", "mondays", "--json")
    assert (missing.code, missing.out) == (1, "")


def test_users_and_tokens(
    db_project: Project, app: Mailer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_password(*args: str) -> CliResult:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        return cli(*args, "--password-stdin", "--json")

    owner = answer(with_password("users", "add", "ann@example.com", "--role", "owner"))
    assert (owner["email"], owner["role"], owner["can_send"]) == ("ann@example.com", "owner", True)
    added = answer(with_password("users", "add", "bo@example.com", "--role", "admin"))
    bo = find_user(app, "bo@example.com")
    assert bo is not None and (added["role"], added["can_send"]) == (bo.role, bo.can_send)

    changed = answer(cli("users", "role", "bo@example.com", "--role", "editor", "--json"))
    bo = find_user(app, "bo@example.com")
    assert bo is not None and (changed["role"], changed["can_send"]) == ("editor", False) == (
        bo.role,
        bo.can_send,
    )

    for _ in range(2):
        log_in(app, "bo@example.com", PASSWORD, None)
    assert answer(cli("users", "logout", "bo@example.com", "--json")) == {
        "email": "bo@example.com",
        "sessions_ended": 2,
    }
    log_in(app, "bo@example.com", PASSWORD, None)
    password = answer(with_password("users", "password", "bo@example.com"))
    assert password == {"email": "bo@example.com", "password_changed": True, "sessions_ended": 1}
    assert active_sessions(app).get(bo.id, 0) == 0

    removed = answer(cli("users", "remove", "bo@example.com", "--json"))
    assert removed == {"email": "bo@example.com", "removed": True}
    assert find_user(app, "bo@example.com") is None
    last_owner = cli("users", "remove", "ann@example.com", "--json")
    assert (last_owner.code, last_owner.out) == (1, "")

    assert cli("tokens", "create", "deploy", "--role", "viewer").code == 0
    revoked = answer(cli("tokens", "revoke", "deploy", "--json"))
    (token,) = list_tokens(app)
    assert revoked["name"] == "deploy" and revoked["revoked_at"] is not None
    assert token.revoked_at is not None
    assert revoked["revoked_at"] == token.revoked_at.isoformat().replace("+00:00", "Z")
