"""``mailer check``: everything that can be wrong with an issue before it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import html as lxml_html
from lxml.html import HtmlElement

from mailer.checks.findings import Finding
from mailer.checks.mjml_validate import locate_in_templates, validate_mjml
from mailer.checks.substitution_size import substitution_findings
from mailer.checks.urls import link_problem
from mailer.config import Settings
from mailer.content import Issue, load_issue
from mailer.errors import LocatedError, MailerError
from mailer.links import recipient
from mailer.render.markdown import Body
from mailer.render.pipeline import RenderedEmail, Renderer
from mailer.render.tokens import HTML_PART, TEXT_PART, token

# Gmail hides everything past ~102 KB of HTML behind "[Message clipped]", including the footer
# with the unsubscribe link and postal address.
GMAIL_CLIP_BYTES = 102 * 1024
GMAIL_WARN_BYTES = 90 * 1024
SUBJECT_WARN_CHARS = 90
# Long enough to stand for any real recipient's signed links and address.
_SIZING_RECIPIENT = recipient(
    "https://newsletter.example.com",
    b"k" * 32,
    "a.rather.long.address@subdomain.example.com",
    "A Reader With A Fairly Long Name",
)
_NAMELESS_RECIPIENT = _SIZING_RECIPIENT._replace(name="")


@dataclass(frozen=True)
class IssueReport:
    path: Path
    findings: tuple[Finding, ...]
    html_bytes: int | None

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "html_bytes": self.html_bytes,
            "errors": [f.as_json() for f in self.findings if f.level == "error"],
            "warnings": [f.as_json() for f in self.findings if f.level == "warning"],
        }


def _body_links(issue: Issue, body: Body) -> Iterator[Finding]:
    for link in body.links:
        problem = link_problem(link.href)
        if problem:
            yield Finding(problem[0], problem[1], issue.path, issue.body_line + link.line)
    for image in body.images:
        line = issue.body_line + image.line
        if not image.alt.strip():
            yield Finding("error", f"image {image.src!r} has no alt text", issue.path, line)
        problem = link_problem(image.src, image=True)
        if problem:
            yield Finding(problem[0], problem[1], issue.path, line)
    if issue.template == "digest":
        for section in body.sections:
            if section.read_more is None:
                yield Finding(
                    "warning",
                    f"digest item {section.title!r} has no 'read more' link "
                    "(end the item with a paragraph that is only a link)",
                    issue.path,
                    issue.body_line + section.line,
                )


def _html_links(document: HtmlElement, body_hrefs: set[str], templates: Path) -> Iterator[Finding]:
    """Links and images the layout added (the body's own were checked with their lines)."""
    for anchor in document.iter("a"):
        href = anchor.get("href")
        if href is None or href in body_hrefs:
            continue
        problem = link_problem(href)
        if problem:
            yield Finding(problem[0], f"in the layout: {problem[1]}", templates)
    for image in document.iter("img"):
        src = image.get("src", "")
        if src in body_hrefs:
            continue
        if not (image.get("alt") or "").strip():
            yield Finding("error", f"in the layout: image {src!r} has no alt text", templates)
        problem = link_problem(src, image=True)
        if problem:
            yield Finding(problem[0], f"in the layout: {problem[1]}", templates)


def _compliance(
    rendered: RenderedEmail, document: HtmlElement, settings: Settings
) -> Iterator[Finding]:
    source = settings.source or Path("built-in defaults")
    for part, body, label in (
        (HTML_PART, rendered.html, "HTML"),
        (TEXT_PART, rendered.text, "text"),
    ):
        if token(part, "unsubscribe_url") not in body:
            yield Finding(
                "error",
                f"the {label} part has no unsubscribe link: "
                "put {{ subscriber.unsubscribe_url }} in the layout",
                settings.paths.templates,
            )
    address = settings.newsletter.postal_address.strip()
    if not address:
        yield Finding(
            "error",
            "newsletter.postal_address is empty: the law in most countries requires a postal "
            "address in every newsletter; set postal_address under [newsletter] in the config "
            "file or MAILER_NEWSLETTER_POSTAL_ADDRESS in the environment",
            source,
        )
    elif address not in rendered.text or address not in " ".join(document.text_content().split()):
        yield Finding(
            "error", "the postal address is missing from the footer", settings.paths.templates
        )
    if not settings.newsletter.base_url.startswith("https://"):
        yield Finding(
            "warning",
            "newsletter.base_url is not https: List-Unsubscribe one-click needs an https URL",
            source,
        )


def _size(rendered: RenderedEmail, issue: Issue) -> tuple[int, Finding | None]:
    size = len(rendered.personalize(_SIZING_RECIPIENT).html.encode("utf-8"))
    kb = f"{size / 1024:.1f} KB of HTML"
    if size > GMAIL_CLIP_BYTES:
        return size, Finding("error", f"{kb}: Gmail clips mail over 102 KB", issue.path)
    if size > GMAIL_WARN_BYTES:
        return size, Finding("warning", f"{kb}: close to Gmail's 102 KB clipping limit", issue.path)
    return size, None


def _mjml(rendered: RenderedEmail, templates: Path) -> Iterator[Finding]:
    for problem in validate_mjml(rendered.mjml):
        located = locate_in_templates(problem, templates)
        if located:
            yield Finding("error", problem.message, located[0], located[1])
        else:
            yield Finding(
                "error", f"{problem.message} (line {problem.line} of the MJML)", templates
            )


def _front_matter(issue: Issue) -> Iterator[Finding]:
    meta = issue.meta
    if len(meta.subject) > SUBJECT_WARN_CHARS:
        yield Finding(
            "warning",
            f"subject is {len(meta.subject)} characters; phones show about 40-60",
            issue.path,
            2,
        )
    if not meta.preheader:
        yield Finding(
            "warning", "no preheader: clients will show the first words of the mail", issue.path, 2
        )


def check_issue(path: Path, settings: Settings, renderer: Renderer) -> IssueReport:
    try:
        issue = load_issue(path, settings.paths.templates)
        rendered = renderer.render(issue)
    except LocatedError as exc:
        return IssueReport(path, (Finding("error", exc.message, exc.path, exc.line),), None)
    except MailerError as exc:
        return IssueReport(path, (Finding("error", str(exc)),), None)
    templates = settings.paths.templates
    body = rendered.body
    document = lxml_html.document_fromstring(rendered.html)
    body_hrefs = {link.href for link in body.links} | {image.src for image in body.images}
    findings = [*_front_matter(issue), *_body_links(issue, body)]
    findings += [*_html_links(document, body_hrefs, templates), *_mjml(rendered, templates)]
    findings += list(_compliance(rendered, document, settings))
    findings += substitution_findings(rendered, (_SIZING_RECIPIENT, _NAMELESS_RECIPIENT))
    size, size_finding = _size(rendered, issue)
    if size_finding:
        findings.append(size_finding)
    return IssueReport(path, tuple(findings), size)
