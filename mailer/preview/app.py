"""Local preview of one issue: desktop and phone widths side by side, the text part, subject
and preheader; the page reloads itself when the issue or a template changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mailer.config import Settings
from mailer.content import load_issue
from mailer.errors import MailerError
from mailer.render.pipeline import PersonalizedEmail, Renderer
from mailer.render.tokens import Recipient

PHONE_WIDTH = 375
DESKTOP_WIDTH = 800
POLL_MILLISECONDS = 700

PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Preview: {{ subject }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 0; background: #e9e6e0; color: #1f2933; }
 header { padding: 12px 20px; background: #1d2b36; color: #fff; }
 header .preheader { color: #c9d3dc; font-size: 14px; }
 .error { background: #fde8e8; color: #8a1c1c; padding: 12px 20px; white-space: pre-wrap; }
 main { display: flex; gap: 20px; padding: 20px; align-items: flex-start; overflow-x: auto; }
 figure { margin: 0; } figcaption { font-size: 13px; margin-bottom: 6px; }
 iframe { border: 1px solid #c8c2b8; background: #fff; height: 1400px; }
 pre { background: #fff; padding: 12px; border: 1px solid #c8c2b8; width: 72ch;
       white-space: pre-wrap; }
</style></head><body>
<header><div class="subject"><strong>Subject:</strong> <span id="subject">{{ subject }}</span></div>
<div class="preheader"><strong>Preheader:</strong> <span id="preheader">{{ preheader }}</span></div>
<div class="preheader">{{ path }} · updates when the issue or a template changes</div></header>
{% if error %}<div class="error" id="error">{{ error }}</div>{% endif %}
<main>
 <figure><figcaption>Desktop ({{ desktop }} px)</figcaption>
  <iframe id="desktop" title="desktop" src="email.html" width="{{ desktop }}"></iframe></figure>
 <figure><figcaption>Phone ({{ phone }} px)</figcaption>
  <iframe id="phone" title="phone" src="email.html" width="{{ phone }}"></iframe></figure>
 <figure><figcaption>Text part</figcaption><pre id="text">{{ text }}</pre></figure>
</main>
<script>
 let version = {{ version | tojson }};
 setInterval(async () => {
   try {
     const answer = await fetch("version", {cache: "no-store"});
     const latest = (await answer.json()).version;
     if (latest !== version) { location.reload(); }
   } catch (e) { /* the preview server is restarting */ }
 }, {{ poll }});
</script></body></html>""")


def _sources_version(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            try:
                stat = file.stat()
            except FileNotFoundError:
                continue
            digest.update(f"{file}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


def preview_app(settings: Settings, issue_path: Path, reader: Recipient) -> Starlette:
    renderer = Renderer(settings)

    def render() -> PersonalizedEmail:
        return renderer.render(load_issue(issue_path, settings.paths.templates)).personalize(reader)

    def guarded(view: Callable[[PersonalizedEmail], Response]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                content = render()
            except MailerError as exc:
                return PlainTextResponse(f"error: {exc}", status_code=422)
            return view(content)

        return endpoint

    def page(request: Request) -> Response:
        version = _sources_version([issue_path, settings.paths.templates])
        values: dict[str, str | None]
        try:
            content = render()
        except MailerError as exc:
            values = {"subject": "", "preheader": "", "text": "", "error": str(exc)}
        else:
            meta = load_issue(issue_path).meta
            values = {
                "subject": content.subject,
                "preheader": meta.preheader,
                "text": content.text,
                "error": None,
            }
        html = PAGE.render(
            **values,
            path=str(issue_path),
            version=version,
            phone=PHONE_WIDTH,
            desktop=DESKTOP_WIDTH,
            poll=POLL_MILLISECONDS,
        )
        return HTMLResponse(html)

    def version(request: Request) -> Response:
        return JSONResponse({"version": _sources_version([issue_path, settings.paths.templates])})

    return Starlette(
        routes=[
            Route("/", page),
            Route("/email.html", guarded(lambda c: HTMLResponse(c.html))),
            Route("/email.txt", guarded(lambda c: PlainTextResponse(c.text))),
            Route("/version", version),
        ]
    )
