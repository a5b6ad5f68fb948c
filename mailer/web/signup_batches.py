"""Signups that arrive together are stored in one transaction, and their confirmation mails
go out in one send.

A burst of signups (a newsletter mentioned somewhere popular) would otherwise be a write
transaction each, queued for the database's one writer, and a transport request each: a
burst of requests to SendGrid, which limits them. Gathered, a few hundred signups cost about
what a few do, and their mails are one request of many recipients (``send_confirmations``).
Each signup is answered once its transaction has committed, and its mail goes out after the
answer, as when each goes alone. ``[web] group_commit = false``: each signup is its own
transaction and each mail its own send.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mailer.app import Mailer
from mailer.errors import MailerError
from mailer.services.confirmation import ConfirmationMail, send_confirmations
from mailer.services.consent import Origin
from mailer.services.notice_mail import Job
from mailer.services.signup import (
    CheckedSignup,
    ConfirmationJob,
    SignupOutcome,
    Throttled,
    check_signup,
    signup,
    store_signups,
)
from mailer.web.group_commit import GroupCommit
from mailer.web.requests import AfterAnswer, log_unsent


class SignupBatches:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.stores: GroupCommit[CheckedSignup, ConfirmationJob | Throttled] = GroupCommit(
            self._store_all
        )
        self.mails: GroupCommit[ConfirmationMail, str] = GroupCommit(self._send_all)

    def _store_all(self, signups: Sequence[CheckedSignup]) -> list[ConfirmationJob | Throttled]:
        return store_signups(self.mailer, signups)

    def _send_all(self, mails: Sequence[ConfirmationMail]) -> list[str]:
        """Each mail's refusal reason ("" when the transport took it)."""
        refused = send_confirmations(self.mailer, mails)
        return [refused.get(mail.subscriber_id, "") for mail in mails]

    async def signup(
        self, email: str, name: str, lists: list[str], origin: Origin, honeypot: str
    ) -> tuple[SignupOutcome, AfterAnswer]:
        """``signup``, stored with the others that arrive meanwhile; the mail to send after
        the answer. Raises what ``signup`` raises."""
        checked = await run_in_threadpool(
            check_signup, self.mailer, email, name, lists, origin, honeypot=honeypot
        )
        stored = await self.stores.submit(checked)
        if isinstance(stored, Throttled):
            raise stored
        later = AfterAnswer(self._run)
        later(stored)
        return checked.outcome, later

    async def _run(self, job: Job) -> None:
        """Run a job handed to ``deliver``; a confirmation mail waits for the next send."""
        try:
            if not isinstance(job, ConfirmationJob):
                await run_in_threadpool(job)
            elif job.mail is not None:
                reason = await self.mails.submit(job.mail)
                if reason:
                    raise MailerError(f"the confirmation mail was refused: {reason}")
        except MailerError as exc:
            log_unsent(exc)


async def sign_up(
    request: Request, email: str, name: str, lists: list[str], origin: Origin, honeypot: str
) -> tuple[SignupOutcome, AfterAnswer]:
    """The signup service for a request: gathered with others (``[web] group_commit``), or
    on its own. Returns the outcome and the mail to send once the answer has gone out."""
    state = request.app.state
    mailer: Mailer = state.mailer
    if not mailer.settings.web.group_commit:
        later = AfterAnswer()
        outcome = await run_in_threadpool(
            signup, mailer, email, name, lists, origin, honeypot=honeypot, deliver=later
        )
        return outcome, later
    if getattr(state, "signup_batches", None) is None:
        state.signup_batches = SignupBatches(mailer)
    batches: SignupBatches = state.signup_batches
    return await batches.signup(email, name, lists, origin, honeypot)
