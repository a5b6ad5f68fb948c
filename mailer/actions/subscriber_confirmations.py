"""The confirmation mail after an admin or a token adds people to a double opt-in list, as
``mailer subscribers add`` sends it: those left unconfirmed there are mailed their link. The
add stands whatever the transport does; what it did is told, so the face can say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mailer.app import Mailer
from mailer.services.confirmation import needs_confirmation, request_confirmations
from mailer.services.notice_mail import NoticeNotSent


@dataclass(frozen=True)
class ConfirmationsMailed:
    """Per address: the lists whose confirmation link was mailed, and why one was not."""

    mailed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def of(self, email: str) -> str | None:
        """``mailed``, ``not sent: <why>``, or None when no confirmation was due."""
        if email in self.failed:
            return f"not sent: {self.failed[email]}"
        return "mailed" if email in self.mailed else None


def mail_confirmations(
    mailer: Mailer, list_names: Sequence[str], emails: Sequence[str], *, confirmed: bool
) -> ConfirmationsMailed:
    """Mail a link to each of ``emails`` left unconfirmed on a double opt-in list of
    ``list_names`` (nothing when ``confirmed``: they agreed already)."""
    outcome = ConfirmationsMailed()
    if confirmed or not emails:
        return outcome
    for list_name in list_names:
        if not needs_confirmation(mailer, list_name):
            continue
        try:
            sent = request_confirmations(mailer, list_name, emails)
        except NoticeNotSent as exc:  # the transport is down: every one of them waits
            outcome.failed.update({email: str(exc) for email in emails})
            continue
        for email in sent.sent:
            outcome.mailed[email] = (*outcome.mailed.get(email, ()), list_name)
        outcome.failed.update(sent.refused)
    return outcome
