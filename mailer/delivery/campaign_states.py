"""A campaign's states and the one table of moves between them.

Every change of a campaign's state is an action in ``TRANSITIONS``: from the states it may act
in to the one it leads to. ``mailer.delivery.campaigns.move_campaign`` makes each move as one
``UPDATE ... WHERE status IN (<its sources>)``, so a move the table does not allow never
happens, and of two processes acting at once only one moves the campaign on. The table also
answers which of an editor's actions a campaign allows now (``allowed_actions``), for any face
to offer just those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mailer.errors import ConflictError


class CampaignStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    sending = "sending"
    paused = "paused"
    sent = "sent"
    cancelled = "cancelled"
    failed = "failed"
    missed = "missed"


class Action(StrEnum):
    """What moves a campaign: the editor's actions and what the sender and the worker do."""

    draft = "draft"  # an editor saves a campaign to send later: nothing is due, nobody counted
    edit = "edit"  # an editor changes a draft's issue, list, segment or time
    send = "send"  # an editor sends now: a new campaign (or a draft) starts at once
    schedule = "schedule"  # an editor (or a recurring tick) makes a campaign (or a draft) due later
    start = "start"  # its time came (the worker), or an editor resumes one that never started
    hold = "hold"  # it could not start (the issue has errors, nobody to send to)
    miss = "miss"  # nothing was running at its time, and the misfire grace is past
    pause = "pause"  # an editor pauses it
    interrupt = "interrupt"  # the sender stopped mid-send (interrupted, or gave up on a batch)
    resume = "resume"  # an editor continues a started one (or takes over an interrupted one)
    wait = "wait"  # an editor resumes one paused before its time: it waits for that time again
    reschedule = "reschedule"  # an editor moves a scheduled or missed one to another time
    cancel = "cancel"  # an editor stops it for good
    finish = "finish"  # the sender found nothing left to send
    resend = "resend"  # an editor resolves in-doubt recipients by sending to them again


NEW = None
"""The source of the actions that make a campaign: it has no state yet."""

S = CampaignStatus


@dataclass(frozen=True)
class Transition:
    sources: tuple[CampaignStatus | None, ...]
    """In the order a refusal lists them."""
    target: CampaignStatus
    verb: str
    """How a refusal says it: "only a scheduled campaign can be <verb>"."""
    described: tuple[tuple[CampaignStatus, str], ...] = ()
    """Words for a source state in a refusal, where the state's own name would mislead."""

    def refusal(self) -> str:
        words = dict(self.described)
        names = [words.get(state, state) for state in self.sources if state is not None]
        if not names:
            return f"a campaign is {self.verb} only as it is made"
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        return f"only a {listed} campaign can be {self.verb}"

    def __contains__(self, status: object) -> bool:
        return status in self.sources


def _rule(
    sources: Iterable[CampaignStatus | None],
    target: CampaignStatus,
    verb: str,
    *described: tuple[CampaignStatus, str],
) -> Transition:
    return Transition(tuple(sources), target, verb, described)


TRANSITIONS: dict[Action, Transition] = {
    # A draft is never due: the worker and the scheduler look only at scheduled and sending ones.
    Action.draft: _rule([NEW], S.draft, "drafted"),
    Action.edit: _rule([S.draft], S.draft, "edited"),
    Action.send: _rule([NEW, S.draft], S.sending, "sent"),
    Action.schedule: _rule([NEW, S.draft], S.scheduled, "scheduled"),
    Action.start: _rule([S.scheduled, S.paused], S.sending, "started"),
    Action.hold: _rule([S.scheduled, S.paused], S.paused, "held"),
    # A recurring tick found too late is made missed from the start.
    Action.miss: _rule([NEW, S.scheduled], S.missed, "missed"),
    Action.pause: _rule([S.scheduled, S.sending], S.paused, "paused"),
    Action.interrupt: _rule([S.sending], S.paused, "interrupted"),
    # A campaign still marked sending whose sender stopped is taken over as it is.
    Action.resume: _rule(
        [S.paused, S.failed, S.sending], S.sending, "resumed", (S.sending, "interrupted")
    ),
    Action.wait: _rule([S.paused], S.scheduled, "scheduled again"),
    Action.reschedule: _rule([S.scheduled, S.missed], S.scheduled, "rescheduled"),
    Action.cancel: _rule(
        [S.draft, S.scheduled, S.sending, S.paused, S.failed], S.cancelled, "cancelled"
    ),
    Action.finish: _rule([S.sending], S.sent, "finished"),
    Action.resend: _rule([S.paused, S.sending, S.failed, S.sent], S.sending, "resent"),
}


class EditorAction(StrEnum):
    """What an editor can ask of a campaign (what a face offers), each allowed in the states
    its move in ``EDITOR_MOVES`` acts in. What it then does can depend on more than the
    state: resuming a paused campaign that never started starts it (``start``), or, before
    its time, lets it wait for that time again (``wait``)."""

    edit = "edit"  # a draft's issue, list, segment or time
    send = "send"  # a draft, now
    schedule = "schedule"  # a draft, at its time (or one given then)
    delete = "delete"  # a draft, gone without a trace (cancel keeps it, cancelled)
    pause = "pause"
    resume = "resume"
    reschedule = "reschedule"
    cancel = "cancel"
    resend = "resend"  # in-doubt recipients: send them again
    mark_sent = "mark_sent"  # in-doubt recipients: count them as sent (no change of state)


EDITOR_MOVES: dict[EditorAction, Action | None] = {
    EditorAction.edit: Action.edit,
    EditorAction.send: Action.send,
    EditorAction.schedule: Action.schedule,
    # Deleting is no move (the row goes), allowed where editing is: in a draft only.
    EditorAction.delete: Action.edit,
    EditorAction.pause: Action.pause,
    EditorAction.resume: Action.resume,
    EditorAction.reschedule: Action.reschedule,
    EditorAction.cancel: Action.cancel,
    EditorAction.resend: Action.resend,
    EditorAction.mark_sent: None,  # decides the in-doubt rows; the campaign stays as it is
}
# Resolving is about in-doubt recipients: it is offered only when there are some.
IN_DOUBT_ONLY = (EditorAction.resend, EditorAction.mark_sent)
# What is done to a draft (each face has its own way to ask, and its own permission for it).
DRAFT_ACTIONS = (EditorAction.edit, EditorAction.send, EditorAction.schedule, EditorAction.delete)


class NotAllowed(ConflictError):
    """An action the campaign's state does not allow (another process may have moved it)."""

    def __init__(self, campaign_id: int, status: str, action: Action, detail: str = "") -> None:
        self.campaign_id = campaign_id
        self.status = status
        self.action = action
        super().__init__(
            f"campaign {campaign_id} is {status}{detail}; {TRANSITIONS[action].refusal()}"
        )


def allows(action: Action, status: str | None) -> bool:
    """Whether ``action`` may move a campaign in ``status`` (None: one not made yet)."""
    return status in TRANSITIONS[action]


def check(campaign_id: int, status: str, action: Action, detail: str = "") -> None:
    """Refuse ``action`` on a campaign in ``status`` with a message naming the states it
    needs; ``detail`` adds to what is said of the campaign."""
    if not allows(action, status):
        raise NotAllowed(campaign_id, status, action, detail)


def new_status(action: Action) -> CampaignStatus:
    """The state a campaign made by ``action`` starts in."""
    transition = TRANSITIONS[action]
    if NEW not in transition:
        raise ValueError(f"{action} does not make a campaign")
    return transition.target


def allowed_actions(status: str, in_doubt: int = 0) -> list[EditorAction]:
    """The editor's actions a campaign in ``status`` with ``in_doubt`` recipients allows."""
    found = []
    for action, move in EDITOR_MOVES.items():
        if action in IN_DOUBT_ONLY and not in_doubt:
            continue
        if move is None or allows(move, status):
            found.append(action)
    return found
