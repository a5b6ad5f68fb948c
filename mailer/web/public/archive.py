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

Every request reads which send of the issue is shown now, so an issue sent again or taken
out of the archive shows so at once, whichever server answers. With ``[web] archive_cache``
(the default) that read is shared by the requests that arrive together
(``mailer.web.shared_reads``) and a send's page is made once and kept
(``mailer.web.issue_pages``). The page sets no cookie, so a proxy may keep it five minutes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.errors import FieldError
from mailer.services.archive import (
    MAX_ISSUE_NUMBER,
    ArchivedSend,
    ArchiveEntry,
    NotInArchive,
    archive_page,
    archived_html,
    shown_send,
)
from mailer.web.issue_pages import IssuePages
from mailer.web.pages import pages_of, render
from mailer.web.security import content_security_policy
from mailer.web.shared_reads import SharedReads
from mailer.web.strings import STRINGS

BAR_TEMPLATE = "_archive_bar.html"
ISSUE_POLICY = content_security_policy(
    style_src="'unsafe-inline'",
    img_src="'self' https: data:",
    font_src="'self' https:",
    form_action="'none'",
    sandbox="allow-popups allow-popups-to-escape-sandbox",
)
# How long a proxy may keep an issue page: an issue sent again, or taken out of the archive,
# shows there within this many seconds (this server answers from the database at once).
ISSUE_CACHING = "public, max-age=300"
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


def _with_bar(request: Request, entry: ArchiveEntry, html: str) -> str:
    """The mail's HTML with the site's bar (``_archive_bar.html``) first in its body."""
    bar = (
        pages_of(request)
        .env.get_template(BAR_TEMPLATE)
        .render(root=request.scope.get("root_path", "") + "/", entry=entry)
    )
    body = _BODY_TAG.search(html)
    at = body.end() if body else 0
    return html[:at] + bar + html[at:]


def _page(request: Request, shown: ArchivedSend) -> bytes:
    html = archived_html(_mailer(request), shown, reader_name=STRINGS.archive.reader_name)
    return _with_bar(request, shown.entry, html).encode("utf-8")


def _page_afresh(request: Request, number: int) -> bytes:
    return _page(request, shown_send(_mailer(request), number))


def _shown_or_none(mailer: Mailer, number: int) -> ArchivedSend | None:
    try:
        return shown_send(mailer, number)
    except NotInArchive:
        return None


class _KeptPages:
    """The fast path (``[web] archive_cache``): which send is shown is read for every request
    (shared by the requests that arrive together), and its page is made once."""

    def __init__(self, mailer: Mailer) -> None:
        self.pages = IssuePages()
        self.shown = SharedReads(partial(_shown_or_none, mailer))

    async def page(self, request: Request, number: int) -> bytes:
        shown = await self.shown(number)
        if shown is None:
            raise NotInArchive(number)
        key = (shown.campaign_id, shown.entry, request.scope.get("root_path", ""))
        page = self.pages.get(key)
        if page is None:
            page = await run_in_threadpool(_page, request, shown)
            self.pages.put(key, page)
        return page


def _issue_endpoint(kept: _KeptPages | None) -> Callable[[Request], Awaitable[Response]]:
    """The issue page's endpoint: with ``kept``, the fast path; with None, every page is
    read and made afresh by its request (``[web] archive_cache = false``)."""

    async def archive_issue(request: Request) -> Response:
        number = issue_number(request.path_params["number"])
        if number is None:
            raise HTTPException(404)
        try:
            if kept is None:
                page = await run_in_threadpool(_page_afresh, request, number)
            else:
                page = await kept.page(request, number)
        except NotInArchive:
            raise HTTPException(404) from None
        # The page sets no cookie and holds nothing personal: a proxy may keep it a while.
        headers = {"content-security-policy": ISSUE_POLICY, "cache-control": ISSUE_CACHING}
        return HTMLResponse(page, headers=headers)

    return archive_issue


def routes(mailer: Mailer) -> list[BaseRoute]:
    kept = _KeptPages(mailer) if mailer.settings.web.archive_cache else None
    return [
        Route("/archive", archive_list, methods=["GET"], name="archive"),
        Route("/archive/{number}", _issue_endpoint(kept), methods=["GET"], name="archive_issue"),
    ]
