"""The Jinja environment for email templates, and template errors as ``file:line``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import TracebackType

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    nodes,
)

from mailer.errors import LocatedError, MailerError
from mailer.render.merge_syntax import rewrite_merge_fields

MJML_SUFFIX = ".mjml.j2"
TEXT_SUFFIX = ".txt.j2"
FALLBACK_TEXT_TEMPLATE = "_default.txt.j2"


def _autoescape(name: str | None) -> bool:
    # Everything that becomes markup is escaped; only the plain-text templates are not.
    return name is None or not name.endswith(TEXT_SUFFIX)


def long_date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


class EmailEnvironment(Environment):
    """Layouts whose merge fields are checked, and tested per reader, as a body's are."""

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        try:
            return rewrite_merge_fields(tree)
        except TemplateSyntaxError as exc:
            exc.name, exc.filename = name, filename
            raise


def template_environment(templates_dir: Path) -> Environment:
    if not templates_dir.is_dir():
        raise MailerError(f"{templates_dir}: the templates folder does not exist")
    env = EmailEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    return env


def template_frame_line(traceback: TracebackType | None, suffix: str) -> tuple[str, int] | None:
    """The innermost template frame (file name ending in ``suffix``) of a Jinja traceback."""
    found = None
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if code.co_filename.endswith(suffix):
            found = (code.co_filename, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def located_template_error(exc: TemplateError, templates_dir: Path) -> MailerError:
    """Point at the template file and line that failed."""
    if isinstance(exc, TemplateNotFound):
        return MailerError(f"{templates_dir}: template {exc.name!r} not found")
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        return LocatedError(Path(exc.filename), exc.lineno, f"template error: {exc.message}")
    frame = template_frame_line(exc.__traceback__, ".j2")
    if frame is not None:
        return LocatedError(Path(frame[0]), frame[1], f"template error: {exc}")
    return MailerError(f"{templates_dir}: template error: {exc}")


def text_template(env: Environment, template: str) -> Template:
    """The layout's own text template, or the shared fallback for layouts an editor added."""
    try:
        return env.get_template(f"{template}{TEXT_SUFFIX}")
    except TemplateNotFound:
        return env.get_template(FALLBACK_TEXT_TEMPLATE)
