"""An issue's rendered parts split at their merge fields, once it is sure none was lost."""

from __future__ import annotations

from mailer.content import Issue
from mailer.errors import MailerError
from mailer.render.tokens import MARKER_PATTERN, MergeMarkupError, MergeTemplate


def merge_templates(issue: Issue, mjml: str, html: str, text: str) -> tuple[MergeTemplate, ...]:
    """The HTML and text parts as merge templates. Should MJML drop a marker of a conditional
    on a subscriber field, the copy is refused with the file, never sent with both branches."""
    try:
        if len(MARKER_PATTERN.findall(mjml)) == len(MARKER_PATTERN.findall(html)):
            return MergeTemplate(html), MergeTemplate(text)
    except MergeMarkupError:
        pass
    raise MailerError(
        f"{issue.path}: a conditional on a subscriber field (in the body or the "
        f"{issue.template!r} layout) lost a marker in MJML; keep each {{% if subscriber.X %}} "
        "... {% endif %} around text or whole sections"
    )
