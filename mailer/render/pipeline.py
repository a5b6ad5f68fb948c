"""One issue -> one RenderedEmail: Markdown -> Jinja -> MJML -> mjml-python -> premailer, and a
plain-text part from the Markdown source. Rendered once; personalized per recipient by tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError

from mailer.config import Settings
from mailer.content import Issue
from mailer.errors import LocatedError
from mailer.links import archive_url
from mailer.render.body_template import BodyTemplateError, render_body
from mailer.render.html_lines import wrap_html
from mailer.render.inline import inline_css
from mailer.render.markdown import Body, parse_body
from mailer.render.merge_parts import merge_templates
from mailer.render.mjml_compile import compile_mjml
from mailer.render.templates import (
    MJML_SUFFIX,
    located_template_error,
    template_environment,
    text_template,
)
from mailer.render.tokens import HTML_PART, TEXT_PART, MergeFields, MergeTemplate, Part, Recipient


@dataclass(frozen=True)
class PersonalizedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class RenderedEmail:
    """An issue rendered once, with merge tokens where per-recipient values go."""

    issue: Issue
    subject: str
    preheader: str
    mjml: str
    html: str
    text: str
    view_url: str
    html_merge: MergeTemplate = field(repr=False, compare=False)
    text_merge: MergeTemplate = field(repr=False, compare=False)
    body: Body = field(repr=False, compare=False)
    """The body as rendered for the HTML part, for checks of its links and images."""

    def personalize(self, recipient: Recipient) -> PersonalizedEmail:
        return PersonalizedEmail(
            subject=self.subject,
            html=self.html_merge.personalize(recipient),
            text=self.text_merge.personalize(recipient),
        )


class Renderer:
    """Holds the layouts' template environment so warm renders reuse compiled templates."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.templates_dir = settings.paths.templates
        self.env = template_environment(self.templates_dir)

    def body(self, issue: Issue, part: Part) -> Body:
        """The issue's Markdown body, its merge fields rendered as the tokens of ``part``."""
        context = {
            "subscriber": MergeFields(part),
            "issue": issue.meta,
            "newsletter": self.settings.newsletter,
        }
        try:
            source = render_body(issue.body, context)
        except BodyTemplateError as exc:
            line = issue.body_line + exc.line - 1
            raise LocatedError(issue.path, line, f"body: {exc.message}") from None
        return parse_body(source)

    def _context(self, issue: Issue, body: Body, part: Part) -> dict[str, Any]:
        return {
            "newsletter": self.settings.newsletter,
            "issue": issue.meta,
            "body": body,
            "subscriber": MergeFields(part),
            "view_url": archive_url(self.settings.newsletter.base_url, issue.number),
        }

    def render(self, issue: Issue) -> RenderedEmail:
        html_body = self.body(issue, HTML_PART)
        text_body = self.body(issue, TEXT_PART)
        try:
            mjml_source = self.env.get_template(f"{issue.template}{MJML_SUFFIX}").render(
                self._context(issue, html_body, HTML_PART)
            )
            text = text_template(self.env, issue.template).render(
                self._context(issue, text_body, TEXT_PART)
            )
        except TemplateError as exc:
            raise located_template_error(exc, self.templates_dir) from None
        html = wrap_html(inline_css(compile_mjml(mjml_source, issue.template)))
        html_merge, text_merge = merge_templates(issue, mjml_source, html, text)
        return RenderedEmail(
            issue=issue,
            subject=issue.meta.subject,
            preheader=issue.meta.preheader,
            mjml=mjml_source,
            html=html,
            text=text,
            view_url=archive_url(self.settings.newsletter.base_url, issue.number),
            html_merge=html_merge,
            text_merge=text_merge,
            body=html_body,
        )
