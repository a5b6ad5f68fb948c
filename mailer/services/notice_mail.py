"""Mail sent to one person at a time, outside any campaign: the confirmation of a signup and
the welcome after it.

A notice is rendered like an issue (Jinja, then MJML, then CSS inlining, and a plain-text
part) from the templates ``_<kind>.mjml.j2`` and ``_<kind>.txt.j2``, whose text template sets
the ``subject`` and the ``preheader``, so all of a notice's words are in its templates. Values
that differ per person (the address, the signed links) go in as merge tokens and are filled
in by the transport, exactly as in an issue: escaped in the HTML part, written by the safe
header code in the headers. A notice's rendering therefore depends only on the lists it is
about, and is kept for the next person signing up to the same lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError

from mailer.app import Mailer
from mailer.config import NewsletterSettings
from mailer.delivery.transports.base import BatchContent, Outgoing, TransportError, send_now
from mailer.errors import MailerError
from mailer.render.html_lines import wrap_html
from mailer.render.inline import inline_css
from mailer.render.mjml_compile import compile_mjml
from mailer.render.pipeline import Renderer
from mailer.render.templates import MJML_SUFFIX, TEXT_SUFFIX, located_template_error
from mailer.render.tokens import HTML_PART, TEXT_PART, MergeFields, MergeTemplate, Part

CONFIRM_NOTICE = "_confirm"
WELCOME_NOTICE = "_welcome"
# A notice's own merge field, beside the subscriber's (a per-person signed link).
CONFIRM_URL_FIELD = "confirm_url"

Job = Callable[[], None]
Deliver = Callable[[Job], None]
"""How a face has mail sent: at once (the command line), or after its answer has gone out
(the web, so that how long an answer takes says nothing about whether mail was sent)."""


def deliver_now(job: Job) -> None:
    job()


class NoticeNotSent(MailerError):
    """The transport did not take the message; nothing else was undone."""


@dataclass(frozen=True)
class Notice:
    subject: str
    html: MergeTemplate
    text: MergeTemplate


def titles_text(titles: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(titles) <= 1:
        return "".join(titles)
    return f"{', '.join(titles[:-1])} and {titles[-1]}"


def _context(part: Part, newsletter: NewsletterSettings, titles: tuple[str, ...]) -> dict[str, Any]:
    fields = MergeFields(part)
    return {
        "newsletter": newsletter,
        "subscriber": fields,
        "confirm_url": fields.attributes[CONFIRM_URL_FIELD],
        "lists": list(titles),
        "list_titles": titles_text(titles),
    }


@dataclass(frozen=True)
class NoticeSources:
    """A notice after Jinja: its subject, its MJML and its text part (with merge tokens)."""

    subject: str
    mjml: str
    text: str


def notice_sources(renderer: Renderer, kind: str, titles: tuple[str, ...]) -> NoticeSources:
    newsletter = renderer.settings.newsletter
    try:
        text_module = renderer.env.get_template(f"{kind}{TEXT_SUFFIX}").make_module(
            _context(TEXT_PART, newsletter, titles)
        )
        subject = str(getattr(text_module, "subject", "")).strip()
        preheader = str(getattr(text_module, "preheader", "")).strip()
        mjml = renderer.env.get_template(f"{kind}{MJML_SUFFIX}").render(
            _context(HTML_PART, newsletter, titles), subject=subject, preheader=preheader
        )
    except TemplateError as exc:
        raise located_template_error(exc, renderer.templates_dir) from None
    if not subject:
        raise MailerError(
            f"{renderer.templates_dir / (kind + TEXT_SUFFIX)}: set the mail's subject with "
            '{% set subject = "..." %}'
        )
    return NoticeSources(subject, mjml, str(text_module))


@lru_cache(maxsize=64)
def render_notice(renderer: Renderer, kind: str, titles: tuple[str, ...]) -> Notice:
    """The notice ``kind`` about the lists titled ``titles``, with merge tokens for the
    person. Kept per renderer, so a running server reads edited templates when restarted."""
    sources = notice_sources(renderer, kind, titles)
    html = wrap_html(inline_css(compile_mjml(sources.mjml, kind)))
    return Notice(sources.subject, MergeTemplate(html), MergeTemplate(sources.text))


def send_notice(
    mailer: Mailer, notice: Notice, list_name: str, outgoing: Sequence[Outgoing]
) -> dict[int, str]:
    """Send ``notice`` to each of ``outgoing`` through the default transport; the ones it did
    not take, with the reason. A failure of the whole transport is NoticeNotSent."""
    content = BatchContent(
        subject=notice.subject,
        html=notice.html,
        text=notice.text,
        newsletter=mailer.settings.newsletter,
        list_name=list_name,
    )
    transport = mailer.transport()
    refused: dict[int, str] = {}
    try:
        for start in range(0, len(outgoing), transport.max_batch):
            result = send_now(transport, content, outgoing[start : start + transport.max_batch])
            refused |= result.rejected | result.unsent | result.in_doubt
    except TransportError as exc:
        raise NoticeNotSent(f"the {transport.name} transport did not send it: {exc}") from None
    finally:
        transport.close()
    return refused
