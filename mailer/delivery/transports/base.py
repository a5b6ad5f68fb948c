"""The one small protocol every transport speaks, and what it hands back.

A transport gets the batch's shared content once and a list of recipients, personalizes as its
backend allows (SendGrid's substitutions, or a local replace for SMTP and the outbox) and says
what happened. Errors that concern the whole batch are exceptions, one class per way the
dispatcher must react; per-recipient refusals are part of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from mailer.config import NewsletterSettings
from mailer.render.tokens import MergeTemplate, Recipient


@dataclass(frozen=True)
class BatchContent:
    """What every message of a campaign shares: rendered once, with merge tokens."""

    subject: str
    html: MergeTemplate
    text: MergeTemplate
    newsletter: NewsletterSettings
    """The sender: from address and name, reply-to, List-Id domain."""
    list_name: str
    campaign_id: int | None = None
    """None for a test send, which no ledger row stands behind."""


class Outgoing(NamedTuple):
    """One recipient of a batch; ``key`` is the ledger row it comes from (its subscriber id)."""

    key: int
    recipient: Recipient


@dataclass
class BatchResult:
    """The transport took every recipient not listed here; ``message_id`` traces the request.

    ``rejected``: refused for good (the reason is kept). ``unsent``: not tried, because the
    connection failed part way (SMTP sends one message at a time); they go back to pending.
    ``in_doubt``: the message on the wire when the connection died."""

    rejected: dict[int, str] = field(default_factory=dict)
    unsent: dict[int, str] = field(default_factory=dict)
    in_doubt: dict[int, str] = field(default_factory=dict)
    message_id: str | None = None

    @property
    def not_sent(self) -> int:
        return len(self.rejected) + len(self.unsent) + len(self.in_doubt)


class TransportError(Exception):
    """A failure of the whole batch; the subclass says how the dispatcher must react."""


class AuthenticationFailed(TransportError):
    """The provider refused our credentials (401/403): stop at once, nothing was sent."""


class TemporaryFailure(TransportError):
    """Nothing was sent and trying again later may work (5xx, connection refused...)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TemporaryFailure):
    """The provider asked us to slow down (429); waiting is not a failed attempt."""


class BadRequest(TransportError):
    """The provider rejected the request as a whole (400). When it names recipients, splitting
    the batch finds them; otherwise the content itself is at fault."""

    def __init__(self, message: str, *, names_recipients: bool) -> None:
        super().__init__(message)
        self.names_recipients = names_recipients


class AnswerLost(TransportError):
    """The request went out but no answer came back (read timeout, connection dropped): the
    provider may have accepted it, so it must not be sent again without a decision."""


@dataclass(frozen=True)
class PreparedRequest:
    """A batch made ready to go: for SendGrid its JSON body (built while the previous request
    is on the wire), for the transports that personalize as they send just the batch."""

    content: BatchContent
    batch: Sequence[Outgoing]
    body: bytes = b""
    left_out: dict[int, str] = field(default_factory=dict)
    """Recipients that cannot be part of the request, with the reason (they fail)."""


class Transport(Protocol):
    """``prepare`` and ``deliver`` are separate so a sender can prepare the next batch while
    others are being delivered. ``prepare`` is called by one thread at a time; ``deliver`` by
    up to ``concurrency`` threads at once, each with a request of its own."""

    name: str
    max_batch: int
    concurrency: int
    """How many requests may be on the wire at once."""

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest: ...

    def deliver(self, request: PreparedRequest) -> BatchResult: ...

    def close(self) -> None: ...


def send_now(transport: Transport, content: BatchContent, batch: Sequence[Outgoing]) -> BatchResult:
    return transport.deliver(transport.prepare(content, batch))
