"""The archive of past issues: ``/archive`` (newest first, in pages marked by issue numbers:
``?before=N`` older, ``?after=N`` newer) and ``/archive/NUMBER``, the issue as it was sent,
filled in for nobody (see ``mailer.services.archive``). The "view in browser" link of every
mail (``mailer.links.archive_url``) opens it.

The issue is served as the document it is, not in a frame: a mail's HTML is a whole page
made to fit any width with its own ``<style>`` rules, and a frame could only be sized to its
content with script (or would scroll inside the page on a phone). A bar of the site's, with
inline styles, goes on top. The page gets a policy of its own: inline styles and images from
anywhere over https, still no script, no form, no plugin, and ``sandbox``, which gives the
document an origin of its own, so even markup that slipped past everything else could not
reach this site's cookies.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.errors import FieldError
from mailer.services.archive import (
    MAX_ISSUE_NUMBER,
    ArchivedIssue,
    NotInArchive,
    archive_page,
    archived_issue,
)
from mailer.web.pages import pages_of, render
from mailer.web.security import content_security_policy
from mailer.web.strings import STRINGS

BAR_TEMPLATE = "_archive_bar.html"
ISSUE_POLICY = content_security_policy(
    style_src="'unsafe-inline'",
    img_src="'self' https: data:",
    font_src="'self' https:",
    form_action="'none'",
    sandbox="allow-popups allow-popups-to-escape-sandbox",
)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def issue_number(text: str) -> int | None:
    """The issue number a path or query gives, or None for anything else (no sign, no
    spaces, no digits of other scripts, no more digits than an issue file's name has)."""
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(MAX_ISSUE_NUMBER)):
        return None
    return int(text)


def _page_mark(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    number = issue_number(text)
    if number is None:
        raise HTTPException(400)
    return number


def archive_list(request: Request) -> Response:
    before, after = _page_mark(request, "before"), _page_mark(request, "after")
    try:
        page = archive_page(_mailer(request), before=before, after=after)
    except FieldError:  # both marks given
        raise HTTPException(400) from None
    if not page.entries and (before is not None or after is not None):
        raise HTTPException(404)
    return render(request, "archive.html", page=page)


def _with_bar(request: Request, issue: ArchivedIssue) -> str:
    """The mail's HTML with the site's bar (``_archive_bar.html``) first in its body."""
    bar = (
        pages_of(request)
        .env.get_template(BAR_TEMPLATE)
        .render(root=request.scope.get("root_path", "") + "/", entry=issue.entry)
    )
    html = issue.html
    body = _BODY_TAG.search(html)
    at = body.end() if body else 0
    return html[:at] + bar + html[at:]


def archive_issue(request: Request) -> Response:
    number = issue_number(request.path_params["number"])
    if number is None:
        raise HTTPException(404)
    try:
        issue = archived_issue(_mailer(request), number, reader_name=STRINGS.archive.reader_name)
    except NotInArchive:
        raise HTTPException(404) from None
    return HTMLResponse(
        _with_bar(request, issue), headers={"content-security-policy": ISSUE_POLICY}
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route("/archive", archive_list, methods=["GET"], name="archive"),
        Route("/archive/{number}", archive_issue, methods=["GET"], name="archive_issue"),
    ]
