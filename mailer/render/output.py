"""Render an issue for one reader in one of the output formats (html, text, eml, mjml)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from mailer.audience.addresses import Address
from mailer.audience.known_readers import KnownReader, known_readers
from mailer.audience.named_address import named_address
from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.content import find_issue, load_issue
from mailer.db.presence import sqlite_file_missing
from mailer.links import recipient
from mailer.render.eml import Envelope, build_message
from mailer.render.formats import OutputFormat
from mailer.render.pipeline import RenderedEmail, Renderer
from mailer.render.tokens import Recipient

if TYPE_CHECKING:
    from mailer.app import Mailer

SAMPLE_READER = "Sample Reader <reader@example.com>"
PREVIEW_LIST = "preview"


def render_reference(settings: Settings, renderer: Renderer, reference: str) -> RenderedEmail:
    """Render the issue given as a path or a number."""
    path = find_issue(reference, settings.paths.issues)
    return renderer.render(load_issue(path, settings.paths.templates))


def parse_reader(mailer: Mailer, to: str | None, list_name: str = PREVIEW_LIST) -> Recipient:
    """The reader ``to`` names (``email`` or ``Name <email>``, one address held to the rules
    an import applies), with signed links of their own; a sample reader without it."""
    reader = named_address(SAMPLE_READER if to is None else to, "to")
    email, base_url = reader.address.email, mailer.settings.newsletter.base_url
    if to is None:
        return recipient(base_url, mailer.signing_key, email, reader.name, list_name=list_name)
    # A subscriber's address shows their copy: their stored name (unless one is given) and
    # attributes, so conditionals and fallbacks on them can be checked.
    known = stored_readers(mailer, [reader.address]).get(reader.address.key)
    name = reader.name or (known.name if known else "")
    attributes = known.attributes if known else None
    return recipient(base_url, mailer.signing_key, email, name, attributes, list_name=list_name)


def stored_readers(mailer: Mailer, addresses: Iterable[Address]) -> dict[str, KnownReader]:
    """The subscribers among ``addresses`` (by address key). A SQLite database not created yet
    holds none: rendering or test-sending does not create it."""
    if sqlite_file_missing(mailer.settings.database.url):
        return {}
    return known_readers(mailer.engine, addresses)


def render_output(
    settings: Settings,
    rendered: RenderedEmail,
    output_format: OutputFormat,
    reader: Recipient,
    clock: Clock = utc_now,
) -> bytes:
    if output_format is OutputFormat.mjml:
        return rendered.mjml.encode("utf-8")
    content = rendered.personalize(reader)
    if output_format is OutputFormat.html:
        return content.html.encode("utf-8")
    if output_format is OutputFormat.text:
        return content.text.encode("utf-8")
    sent_at: datetime = clock()
    envelope = Envelope(newsletter=settings.newsletter, list_name=PREVIEW_LIST, sent_at=sent_at)
    return build_message(envelope, reader, content).as_bytes()
