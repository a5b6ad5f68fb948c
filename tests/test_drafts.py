"""Campaign drafts through the actions layer, on a real database (SQLite and PostgreSQL) with a
clock the test moves: an editor saves and edits a draft and cannot send it; one who may send
sends or schedules it; a draft is never due (the worker and the scheduler leave it alone, even
past its planned time), never upcoming, and its audience is taken only when it goes out; two
people sending the same draft at once: one wins, the other is told what it became."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mailer.accounts.audit import entries
from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Principal, Role
from mailer.actions import campaigns as campaign_actions
from mailer.actions import drafts
from mailer.actions.campaigns import Created, SendRequest
from mailer.app import Mailer
from mailer.audience.subscribers import add_subscribers
from mailer.delivery.campaign_states import EditorAction, NotAllowed
from mailer.delivery.worker import CampaignRunner
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError
from mailer.scheduling.one_off import start_due
from mailer.services.dashboard import dashboard
from tests.conftest import CliResult
from tests.races import race
from tests.sending import ledger
from tests.service_helpers import MovingClock, clock, mailer

__all__ = ["clock", "mailer"]  # fixtures

EDITOR = Principal("user", "ed@example.com", Role.EDITOR, False, user_id=2)
SENDING_EDITOR = Principal("user", "sam@example.com", Role.EDITOR, True, user_id=3)
ADMIN = Principal("user", "ann@example.com", Role.ADMIN, True, user_id=4)
VIEWER = Principal("user", "vi@example.com", Role.VIEWER, False, user_id=5)
WEEKLY = SendRequest(issue=87, list_name="weekly")


def _draft(mailer: Mailer, asked: SendRequest = WEEKLY, who: Principal = EDITOR) -> int:
    return drafts.create_draft(mailer, who, asked).id


def _actions(mailer: Mailer) -> list[tuple[str, str]]:
    return [(entry.action, entry.actor) for entry in reversed(entries(mailer, limit=50))]


def test_an_editor_drafts_and_edits_but_may_not_send_or_schedule(mailer: Mailer) -> None:
    draft = drafts.create_draft(mailer, EDITOR, SendRequest(87, "weekly", 'country = "CN"'))
    assert (draft.status, draft.segment, draft.scheduled_at) == ("draft", 'country = "CN"', None)
    assert draft.subject and draft.counts["total"] == 0
    assert draft.actions == [E.edit, E.send, E.schedule, E.delete, E.cancel]
    assert drafts.offered_actions(EDITOR, draft) == [E.edit, E.delete]
    assert drafts.offered_actions(ADMIN, draft) == draft.actions

    edited = drafts.edit_draft(mailer, EDITOR, draft.id, SendRequest(87, "weekly", at="+3h"))
    assert (edited.segment, edited.status) == (None, "draft")
    assert edited.scheduled_at is not None and edited.zone == mailer.settings.newsletter.timezone

    with pytest.raises(Forbidden, match="may not send campaigns"):
        drafts.send_draft(mailer, EDITOR, draft.id)
    with pytest.raises(Forbidden, match="may not send campaigns"):
        drafts.schedule_draft(mailer, EDITOR, draft.id)
    with pytest.raises(Forbidden, match="may not edit issues"):
        drafts.create_draft(mailer, VIEWER, WEEKLY)
    assert campaign_actions.show_campaign(mailer, ADMIN, draft.id).status == "draft"
    assert ledger(mailer.engine, draft.id) == {}
    assert _actions(mailer)[-2:] == [
        ("campaign.draft", EDITOR.actor),
        ("campaign.draft_edit", EDITOR.actor),
    ]


def test_an_editor_who_may_send_sends_the_draft_and_its_audience_is_taken_then(
    mailer: Mailer, clock: MovingClock
) -> None:
    draft_id = _draft(mailer)
    add_subscribers(mailer.engine, ["late@example.com"], "weekly", confirmed=True)
    clock.advance(minutes=5)
    sent = drafts.send_draft(mailer, SENDING_EDITOR, draft_id)
    assert (sent.campaign.status, sent.recipients) == ("sending", 6)  # counted when sent
    assert sent.campaign.started_at == clock.now
    assert sorted(ledger(mailer.engine, draft_id).values()) == ["pending"] * 6
    assert ("campaign.send", SENDING_EDITOR.actor) in _actions(mailer)
    with pytest.raises(NotAllowed, match="is sending; only a draft campaign can be edited"):
        drafts.edit_draft(mailer, EDITOR, draft_id, WEEKLY)


def test_a_draft_is_never_due_nor_upcoming_even_past_its_planned_time(
    mailer: Mailer, clock: MovingClock
) -> None:
    draft_id = _draft(mailer, SendRequest(87, "weekly", at="+1h"))
    clock.advance(hours=2)  # its planned time has passed
    runner = CampaignRunner(mailer.engine, mailer.settings, mailer.signing_key, clock=clock)
    assert runner.run_once() == 0
    started = start_due(
        mailer.engine, mailer.settings, mailer.renderer, draft_id, owner=None, clock=clock
    )
    assert started.outcome == "gone"
    assert dashboard(mailer).upcoming == []
    assert ledger(mailer.engine, draft_id) == {}
    # Scheduling it on its own time is refused: that time has passed.
    with pytest.raises(FieldError, match="has passed; give a later time") as late:
        drafts.schedule_draft(mailer, ADMIN, draft_id)
    assert late.value.field == "at"
    scheduled = drafts.schedule_draft(mailer, ADMIN, draft_id, at="+1h", local_time="09:00")
    assert scheduled.scheduled and scheduled.campaign.status == "scheduled"
    assert scheduled.campaign.local_time == "09:00"
    assert ledger(mailer.engine, draft_id) == {}  # taken when it starts, as any scheduled one
    assert [found.id for found in dashboard(mailer).upcoming] == [draft_id]


def test_a_draft_scheduled_on_its_own_time_keeps_it(mailer: Mailer) -> None:
    draft = drafts.create_draft(
        mailer, EDITOR, SendRequest(87, "weekly", at="2031-05-06 09:00", timezone="Asia/Tokyo")
    )
    done = drafts.schedule_draft(mailer, ADMIN, draft.id)
    assert done.campaign.scheduled_at == draft.scheduled_at
    assert (done.campaign.zone, done.campaign.status) == ("Asia/Tokyo", "scheduled")
    with pytest.raises(FieldError, match="the draft has none"):
        drafts.schedule_draft(mailer, ADMIN, _draft(mailer))


@pytest.mark.parametrize("second", ["send", "schedule"])
def test_two_sending_one_draft_at_once_one_wins(mailer: Mailer, second: str) -> None:
    draft_id = _draft(mailer)
    other: Callable[[], Any] = (
        (lambda: drafts.send_draft(mailer, ADMIN, draft_id))
        if second == "send"
        else (lambda: drafts.schedule_draft(mailer, ADMIN, draft_id, at="+2h"))
    )
    results = race(lambda: drafts.send_draft(mailer, SENDING_EDITOR, draft_id), other)
    won = [result for result in results if isinstance(result, Created)]
    lost = [result for result in results if isinstance(result, MailerError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], ConflictError)
    status = won[0].campaign.status
    assert f"campaign {draft_id} is {status}; only a draft campaign can be" in str(lost[0])
    sent = [
        action for action, _ in _actions(mailer) if action in ("campaign.send", "campaign.schedule")
    ]
    assert len(sent) == 1
    expected = 5 if status == "sending" else 0
    assert len(ledger(mailer.engine, draft_id)) == expected  # one snapshot, never two


def test_a_draft_edited_after_it_was_read_is_not_sent_unseen(mailer: Mailer) -> None:
    from mailer.delivery import drafts as stored
    from mailer.services import drafts as service
    from mailer.services import sends

    draft_id = _draft(mailer)
    read = service.read(mailer, draft_id)
    drafts.edit_draft(mailer, EDITOR, draft_id, SendRequest(87, "weekly", 'country = "CN"'))
    plan = sends.plan(mailer, "87", "weekly")
    with pytest.raises(ConflictError, match="was edited while it was being sent"):
        stored.send_draft(mailer.engine, read, plan, mailer.clock)
    assert campaign_actions.show_campaign(mailer, ADMIN, draft_id).status == "draft"


def test_refusals_name_their_field(mailer: Mailer) -> None:
    cases = [
        (SendRequest(999, "weekly"), "issue", "no issue number 999"),
        (SendRequest(0, "weekly"), "issue", "from 1 to"),
        (SendRequest(87, "nope"), "list", "nope"),
        (SendRequest(87, "weekly", "country ="), "segment", ""),
        (SendRequest(87, "weekly", at="2020-01-01 09:00"), "at", "in the past"),
        (SendRequest(87, "weekly", timezone="UTC"), "timezone", "give the time too"),
        (SendRequest(87, "weekly", at="+1h", timezone="Mars/Base"), "timezone", ""),
        (SendRequest(87, "weekly", local_time="25:00"), "local_time", ""),
        (SendRequest(87, "week\x00ly"), "list", "control characters"),
    ]
    for asked, field, words in cases:
        with pytest.raises(FieldError) as refused:
            drafts.create_draft(mailer, EDITOR, asked)
        assert refused.value.field == field, (asked, refused.value)
        assert words in str(refused.value)
    draft_id = _draft(mailer)
    with pytest.raises(FieldError) as refused:
        drafts.change_draft(mailer, EDITOR, draft_id, {"list": "nope"})
    assert refused.value.field == "list"
    assert campaign_actions.show_campaign(mailer, ADMIN, draft_id).list_name == "weekly"


def test_a_draft_whose_list_has_nobody_is_saved_but_not_sent(mailer: Mailer) -> None:
    from mailer.audience.lists import create_list

    create_list(mailer.engine, "empty")
    draft_id = _draft(mailer, SendRequest(87, "empty"))
    with pytest.raises(FieldError, match="nothing to send") as refused:
        drafts.send_draft(mailer, ADMIN, draft_id)
    assert refused.value.field == "list"
    assert campaign_actions.show_campaign(mailer, ADMIN, draft_id).status == "draft"


def test_change_keeps_what_it_does_not_name(mailer: Mailer) -> None:
    draft = drafts.create_draft(
        mailer, EDITOR, SendRequest(87, "weekly", 'country = "SG"', at="+5h", local_time="08:30")
    )
    changed = drafts.change_draft(mailer, EDITOR, draft.id, {"segment": None})
    assert (changed.segment, changed.scheduled_at, changed.local_time) == (
        None,
        draft.scheduled_at,
        "08:30",
    )
    retimed = drafts.change_draft(mailer, EDITOR, draft.id, {"local_time": "07:00"})
    assert (retimed.scheduled_at, retimed.local_time) == (None, "07:00")


def test_delete_and_cancel(mailer: Mailer) -> None:
    deleted, cancelled = _draft(mailer), _draft(mailer)
    drafts.delete_draft(mailer, EDITOR, deleted)
    with pytest.raises(NotFoundError):
        campaign_actions.show_campaign(mailer, ADMIN, deleted)
    with pytest.raises(NotFoundError):
        drafts.delete_draft(mailer, EDITOR, deleted)
    after = campaign_actions.act(mailer, ADMIN, cancelled, EditorAction.cancel)
    assert after.status == "cancelled"
    with pytest.raises(ConflictError, match="is cancelled; only a draft campaign can be deleted"):
        drafts.delete_draft(mailer, EDITOR, cancelled)
    with pytest.raises(ConflictError, match="is cancelled; only a draft campaign can be sent"):
        drafts.send_draft(mailer, ADMIN, cancelled)
    verbs = [action for action, _ in _actions(mailer)]
    assert verbs[-2:] == ["campaign.draft_delete", "campaign.cancel"]


E = EditorAction


def test_the_command_line_lists_a_draft_with_its_planned_time(
    mailer: Mailer, cli: Callable[..., CliResult]
) -> None:
    draft = drafts.create_draft(
        mailer, EDITOR, SendRequest(87, "weekly", at="2031-06-01 09:00", timezone="UTC")
    )
    listed = cli("campaigns")
    assert listed.code == 0, listed.err
    row = next(line for line in listed.out.splitlines() if f" {draft.id} " in line)
    assert "│ draft" in row and "2031-06-01T09:00Z" in row
    shown = cli("campaigns", "show", str(draft.id))
    assert shown.code == 0, shown.err
    assert "Campaign 1: draft" in shown.out and "a draft: nothing is due" in shown.out
