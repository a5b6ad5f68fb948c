"""``/feed.xml``: the archive as an Atom feed (RFC 4287), from the template ``feed.xml`` (every
value escaped, like the pages). Each entry is an issue: its title, its preheader as the
summary, when it first went out and when the copy in the archive went out, and a link to
its archive page. Ids and links are absolute, under ``[newsletter] base_url``."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.links import archive_url
from mailer.services.archive import latest_issues
from mailer.web.pages import pages_of

FEED_TEMPLATE = "feed.xml"
FEED_ENTRIES = 20
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def feed(request: Request) -> Response:
    mailer: Mailer = request.app.state.mailer
    base_url = mailer.settings.newsletter.base_url
    entries = latest_issues(mailer, FEED_ENTRIES)
    # With no issue yet, the feed changed last... now, as far as a reader can tell.
    updated = max((entry.sent_at for entry in entries), default=mailer.clock())
    xml = (
        pages_of(request)
        .env.get_template(FEED_TEMPLATE)
        .render(
            base_url=base_url,
            feed_url=f"{base_url}/feed.xml",
            updated=rfc3339(updated),
            entries=entries,
            link_of=lambda entry: archive_url(base_url, entry.number),
            rfc3339=rfc3339,
        )
    )
    return Response(xml, media_type=MEDIA_TYPE)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route("/feed.xml", feed, methods=["GET"], name="feed")]
