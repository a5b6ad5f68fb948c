"""Whether each reader's personal values fit in a SendGrid request: a conditional on a
subscriber field is sent as one substitution holding the chosen branch, and SendGrid takes
10,000 bytes of substitutions per reader."""

from __future__ import annotations

from collections.abc import Iterator

from mailer.checks.findings import Finding
from mailer.delivery.transports.sendgrid_payload import MAX_SUBSTITUTION_BYTES
from mailer.render.pipeline import RenderedEmail
from mailer.render.tokens import Recipient


def substitution_bytes(rendered: RenderedEmail, reader: Recipient) -> int:
    values = {
        name: read(reader)
        for template in (rendered.html_merge, rendered.text_merge)
        for name, read in template.substitutions().items()
    }
    return sum(len(name.encode()) + len(value.encode()) for name, value in values.items())


def substitution_findings(
    rendered: RenderedEmail, readers: tuple[Recipient, ...]
) -> Iterator[Finding]:
    """A warning when some reader's values would pass SendGrid's limit (smtp and the outbox
    have none): those readers would be left out of a sendgrid send."""
    size = max(substitution_bytes(rendered, reader) for reader in readers)
    if size > MAX_SUBSTITUTION_BYTES:
        yield Finding(
            "warning",
            f"each reader's personal values come to up to {size:,} bytes (a conditional on a "
            "subscriber field carries its whole branch); SendGrid takes 10,000 a reader, so "
            "with the sendgrid transport keep such conditionals short",
            rendered.issue.path,
        )
