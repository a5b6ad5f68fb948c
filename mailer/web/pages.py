"""HTML pages: Jinja templates from ``[paths] web_templates`` (``templates/web/`` unless the
config names a folder of one's own), escaped, with the strings, the newsletter's settings and
the CSRF form field at hand in every template."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailer.config import Settings
from mailer.errors import MailerError
from mailer.web import csrf
from mailer.web.strings import STRINGS

STATIC_FOLDER = "static"


class Pages:
    """The pages' template environment, made once per app."""

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.paths.web_templates
        if not self.folder.is_dir():
            raise MailerError(
                f"{self.folder}: the web templates folder does not exist (paths.web_templates)"
            )
        self.static_folder = self.folder / STATIC_FOLDER
        self.env = Environment(
            loader=FileSystemLoader(self.folder),
            # Every value that lands in markup is escaped, whatever the template's name says
            # about it otherwise (.html, .xml and .svg all end up in a browser).
            autoescape=select_autoescape(("html", "htm", "xml", "svg"), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(t=STRINGS, newsletter=settings.newsletter)
        self._versions = _file_versions(self.static_folder)

    def static_url(self, request: Request, name: str) -> str:
        """The path of a static file, with a fingerprint of its contents so that a changed
        file is fetched again (served under the path the proxy gives, if any)."""
        version = self._versions.get(name)
        suffix = f"?v={version}" if version else ""
        return f"{request.scope.get('root_path', '')}/{STATIC_FOLDER}/{name}{suffix}"

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        values = {
            "request": request,
            "root": request.scope.get("root_path", "") + "/",
            "static_url": lambda file: self.static_url(request, file),
            # Called by a template that shows a form; only then is the CSRF cookie set.
            "csrf_token": lambda: csrf.form_token(request),
            "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(
                csrf.FORM_FIELD, csrf.form_token(request)
            ),
            **context,
        }
        html = self.env.get_template(name).render(values)
        return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


def _file_versions(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        file.relative_to(folder).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()[:12]
        for file in sorted(folder.rglob("*"))
        if file.is_file()
    }


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def render(
    request: Request,
    name: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page made from template ``name`` with ``context`` (plus the strings as ``t``, the
    newsletter's settings as ``newsletter``, ``csrf_field()`` for forms, ``static_url()``)."""
    return pages_of(request).render(request, name, context, status_code, headers)
