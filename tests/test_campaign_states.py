"""The campaign state machine: each action moves a campaign only from the states its row of
the table names, to the one state it names, on the database itself; and a campaign says
which of an editor's actions it allows now (`campaigns show --json` lists them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from mailer.db.engine import write_transaction
from mailer.db.tables import CAMPAIGN_STATUSES, campaigns
from mailer.delivery.campaign_states import (
    Action,
    CampaignStatus,
    EditorAction,
    NotAllowed,
    allowed_actions,
    check,
    new_status,
)
from mailer.delivery.campaigns import move_campaign, show_campaign
from tests.conftest import CliResult, Project

S = CampaignStatus
NOW = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)

# The table, written out again here: (action, the states it moves from, the state it leads to).
# A campaign in any other state is left as it is.
MOVES = [
    (Action.edit, {S.draft}, S.draft),
    (Action.send, {S.draft}, S.sending),
    (Action.schedule, {S.draft}, S.scheduled),
    (Action.start, {S.scheduled, S.paused}, S.sending),
    (Action.hold, {S.scheduled, S.paused}, S.paused),
    (Action.miss, {S.scheduled}, S.missed),
    (Action.pause, {S.scheduled, S.sending}, S.paused),
    (Action.interrupt, {S.sending}, S.paused),
    (Action.resume, {S.paused, S.failed, S.sending}, S.sending),
    (Action.wait, {S.paused}, S.scheduled),
    (Action.reschedule, {S.scheduled, S.missed}, S.scheduled),
    (Action.cancel, {S.draft, S.scheduled, S.sending, S.paused, S.failed}, S.cancelled),
    (Action.finish, {S.sending}, S.sent),
    (Action.resend, {S.paused, S.sending, S.failed, S.sent}, S.sending),
]


def _insert(connection: sa.Connection, status: CampaignStatus) -> int:
    key = connection.execute(
        sa.insert(campaigns).values(
            issue_number=87,
            issue_file="issues/0087.md",
            list_name="weekly",
            transport="outbox",
            status=status.value,
            created_at=NOW,
            updated_at=NOW,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


@pytest.mark.parametrize(("action", "sources", "target"), MOVES, ids=[m[0] for m in MOVES])
def test_each_action_moves_a_campaign_only_from_the_states_of_its_row(
    engine: sa.Engine, action: Action, sources: set[CampaignStatus], target: CampaignStatus
) -> None:
    for status in CampaignStatus:
        with write_transaction(engine) as connection:
            campaign_id = _insert(connection, status)
            moved = move_campaign(connection, campaign_id, action, NOW, message="moved")
        after = show_campaign(engine, campaign_id)
        if status in sources:
            assert moved, f"{action} refused a {status} campaign"
            assert (after.status, after.message) == (target, "moved")
        else:
            assert not moved, f"{action} moved a {status} campaign"
            assert (after.status, after.message) == (status, "")


def test_a_move_can_be_narrowed_to_one_of_its_states_but_not_widened(engine: sa.Engine) -> None:
    with write_transaction(engine) as connection:
        paused = _insert(connection, S.paused)
        scheduled = _insert(connection, S.scheduled)
        # The worker starts only what is still scheduled: a campaign paused meanwhile stays.
        assert not move_campaign(connection, paused, Action.start, NOW, only_from=S.scheduled)
        assert move_campaign(connection, scheduled, Action.start, NOW, only_from=S.scheduled)
        with pytest.raises(ValueError, match="never moves"):
            move_campaign(connection, paused, Action.finish, NOW, only_from=S.paused)
        with pytest.raises(ValueError, match="moves none"):
            move_campaign(connection, paused, Action.draft, NOW)
    assert show_campaign(engine, paused).status == S.paused
    assert show_campaign(engine, scheduled).status == S.sending


def test_a_move_waits_on_its_condition(engine: sa.Engine) -> None:
    with write_transaction(engine) as connection:
        campaign_id = _insert(connection, S.scheduled)
        later = campaigns.c.scheduled_at.is_not(None)  # never scheduled_at in this row
        assert not move_campaign(connection, campaign_id, Action.miss, NOW, only_if=later)
    assert show_campaign(engine, campaign_id).status == S.scheduled


def test_the_states_are_the_ones_the_database_allows() -> None:
    assert tuple(CampaignStatus) == CAMPAIGN_STATUSES


def test_an_action_that_makes_campaigns_moves_none(engine: sa.Engine) -> None:
    with write_transaction(engine) as connection:
        campaign_id = _insert(connection, S.scheduled)
    with pytest.raises(NotAllowed, match="is scheduled; a campaign is drafted only as it is made"):
        check(campaign_id, S.scheduled, Action.draft)
    with pytest.raises(NotAllowed, match="is scheduled; only a draft campaign can be sent"):
        check(campaign_id, S.scheduled, Action.send)


def test_campaigns_are_made_drafts_sending_scheduled_or_missed_and_nothing_else() -> None:
    makers = (Action.draft, Action.send, Action.schedule, Action.miss)
    made = {action: new_status(action) for action in makers}
    assert made == {
        Action.draft: S.draft,
        Action.send: S.sending,
        Action.schedule: S.scheduled,
        Action.miss: S.missed,
    }
    for action, _, _ in MOVES:
        if action not in makers:
            with pytest.raises(ValueError, match="does not make a campaign"):
                new_status(action)


E = EditorAction
ALLOWED = {
    S.draft: [E.edit, E.send, E.schedule, E.delete, E.cancel],
    S.scheduled: [E.pause, E.reschedule, E.cancel],
    S.sending: [E.pause, E.resume, E.cancel],
    S.paused: [E.resume, E.cancel],
    S.sent: [],
    S.cancelled: [],
    S.failed: [E.resume, E.cancel],
    S.missed: [E.reschedule],
}
# With in-doubt recipients, each state that can send again offers a resend, and every state
# lets the editor count them as sent.
RESEND = {S.paused, S.sending, S.failed, S.sent}


@pytest.mark.parametrize("status", list(CampaignStatus))
def test_what_an_editor_can_do_follows_from_the_state(status: CampaignStatus) -> None:
    assert allowed_actions(status) == ALLOWED[status]
    in_doubt = ALLOWED[status] + ([E.resend] if status in RESEND else []) + [E.mark_sent]
    assert allowed_actions(status, in_doubt=3) == in_doubt


Cli = Callable[..., CliResult]


def test_campaigns_show_json_lists_the_actions_allowed_now(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    added = cli("subscribers", "add", "ada@example.com", "--list", "weekly", "--confirmed")
    assert added.code == 0, added.err
    scheduled = cli("send", "87", "--list", "weekly", "--yes", "--at", "+2h", "--json")
    assert scheduled.code == 0, scheduled.err
    campaign_id = str(json.loads(scheduled.out)["id"])

    def actions() -> list[str]:
        shown = cli("campaigns", "show", campaign_id, "--json")
        assert shown.code == 0, shown.err
        found: list[str] = json.loads(shown.out)["actions"]
        return found

    assert actions() == ["pause", "reschedule", "cancel"]
    assert cli("campaigns", "pause", campaign_id).code == 0
    assert actions() == ["resume", "cancel"]
    assert cli("campaigns", "cancel", campaign_id).code == 0
    assert actions() == []
