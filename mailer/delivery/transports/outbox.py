"""The outbox: one .eml file per message in a folder, the default when nothing else is set up.

A campaign's messages go to ``<dir>/campaign-<id>/<subscriber id>.eml``, so sending a batch again
(after a crash, say) rewrites the same files instead of adding copies; test sends and mail
outside a campaign (a signup's confirmation) go to ``<dir>/test/``. Each file is written
under a temporary name and renamed, so a reader never sees half a message.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from mailer.clock import Clock, utc_now
from mailer.delivery.transports.base import (
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    TemporaryFailure,
)
from mailer.render.eml import Envelope, build_message
from mailer.render.pipeline import PersonalizedEmail


class OutboxTransport:
    name = "outbox"
    max_batch = 1000
    concurrency = 1  # one writer of files is plenty; the disk is the limit

    def __init__(self, folder: Path, clock: Clock = utc_now) -> None:
        self.folder = folder
        self.clock = clock

    def _path(self, content: BatchContent, item: Outgoing, index: int, now: datetime) -> Path:
        if content.campaign_id is None:
            # Mail outside a campaign (test copies, confirmations) from several threads or
            # server processes may share a microsecond: a random part keeps each file.
            stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
            return self.folder / "test" / f"{stamp}-{index}-{secrets.token_hex(4)}.eml"
        return self.folder / f"campaign-{content.campaign_id}" / f"{item.key}.eml"

    def prepare(self, content: BatchContent, batch: Sequence[Outgoing]) -> PreparedRequest:
        return PreparedRequest(content, batch)  # personalized one by one while sending

    def deliver(self, request: PreparedRequest) -> BatchResult:
        content, batch = request.content, request.batch
        now = self.clock()
        envelope = Envelope(content.newsletter, content.list_name, now)
        try:
            for index, item in enumerate(batch):
                personalized = PersonalizedEmail(
                    subject=content.subject,
                    html=content.html.personalize(item.recipient),
                    text=content.text.personalize(item.recipient),
                )
                message = build_message(envelope, item.recipient, personalized)
                path = self._path(content, item, index, now)
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.name + ".partial")
                partial.write_bytes(message.as_bytes())
                os.replace(partial, path)
        except OSError as exc:
            # A full disk or a missing permission: nothing to blame on a recipient.
            raise TemporaryFailure(f"cannot write to the outbox {self.folder}: {exc}") from exc
        return BatchResult(message_id=None)

    def close(self) -> None:
        pass
