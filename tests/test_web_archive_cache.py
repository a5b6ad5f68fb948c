"""The issue pages of the archive as `mailer serve` keeps them ready (``[web] archive_cache``):
whatever a server kept, a reader sees what the database says now. An issue sent again shows
the newest send, one whose newest send may not be shown is gone, and all of it the same with
the cache off. The page may be kept by a proxy for a while: it sets no cookie."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import campaigns
from tests.archive_helpers import Cli, Sent, send, sent
from tests.web_server import WebServer

__all__ = ["sent"]  # fixtures

StartServer = Callable[..., WebServer]
CACHE = pytest.mark.parametrize("cache", ["true", "false"])


def _server(start_web_server: StartServer, cache: str) -> WebServer:
    return start_web_server({"MAILER_WEB_ARCHIVE_CACHE": cache})


def _page(server: WebServer, number: int) -> httpx.Response:
    return httpx.get(server.url(f"/archive/{number}"))


def _statuses_at_once(server: WebServer, number: int, count: int = 60) -> set[int]:
    """The statuses of ``count`` requests for the page made together (they share reads)."""
    with ThreadPoolExecutor(max_workers=20) as pool:
        return {
            page.status_code for page in pool.map(lambda _: _page(server, number), range(count))
        }


@CACHE
def test_an_issue_sent_again_shows_the_newest_send(
    sent: Sent, cli: Cli, start_web_server: StartServer, cache: str
) -> None:
    server = _server(start_web_server, cache)
    for _ in range(2):  # the second answer is the kept one, if any
        assert "Good morning." in _page(server, 87).text
    issue = next(sent.project.issues.glob("0087-*.md"))
    original = issue.read_text(encoding="utf-8")
    issue.write_text(original.replace("Good morning.", "Good evening."), "utf-8")
    send(cli, "87")
    again = _page(server, 87)
    assert again.status_code == 200
    assert "Good evening." in again.text and "Good morning." not in again.text


@CACHE
def test_an_issue_sent_again_with_archive_false_is_gone_and_back_when_sent_to_be_shown(
    sent: Sent, cli: Cli, start_web_server: StartServer, cache: str
) -> None:
    server = _server(start_web_server, cache)
    assert _page(server, 87).status_code == 200
    issue = next(sent.project.issues.glob("0087-*.md"))
    original = issue.read_text(encoding="utf-8")
    issue.write_text(original.replace("status: ready", "status: ready\narchive: false"), "utf-8")
    send(cli, "87")
    assert _page(server, 87).status_code == 404
    issue.write_text(original, "utf-8")
    send(cli, "87")
    assert _page(server, 87).status_code == 200


@CACHE
def test_a_send_marked_not_archived_or_called_off_in_the_database_is_gone_at_once(
    sent: Sent, start_web_server: StartServer, cache: str
) -> None:
    server = _server(start_web_server, cache)
    assert _statuses_at_once(server, 88) == {200}
    assert _page(server, 89).status_code == 200
    engine = open_database(sent.project.settings().database.url)
    with engine.begin() as connection:
        for number, change in ((88, {"archived": False}), (89, {"status": "cancelled"})):
            connection.execute(
                sa.update(campaigns).where(campaigns.c.id == sent.campaigns[number]).values(change)
            )
    engine.dispose()
    assert _statuses_at_once(server, 88) == {404}
    assert _page(server, 89).status_code == 404


@CACHE
def test_the_page_is_the_same_from_the_cache_as_made_afresh(
    sent: Sent, start_web_server: StartServer, cache: str
) -> None:
    other = "false" if cache == "true" else "true"
    one, two = _server(start_web_server, cache), _server(start_web_server, other)
    for number in (87, 89, 91):
        pages = [_page(server, number) for server in (one, two, one, two)]
        assert {page.status_code for page in pages} == {200}
        # Each server has a base URL of its own (its port), which the page's links use.
        texts = {
            page.text.replace(server.base_url, "BASE")
            for page, server in zip(pages, (one, two, one, two), strict=True)
        }
        assert len(texts) == 1, number
        assert len({page.headers["content-security-policy"] for page in pages}) == 1


def test_an_issue_page_may_be_kept_by_a_proxy_for_it_sets_no_cookie(
    sent: Sent, web_server: WebServer
) -> None:
    page = _page(web_server, 87)
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    directives = {part.strip() for part in page.headers["cache-control"].split(",")}
    assert "public" in directives and "max-age=300" in directives
    missing = _page(web_server, 90)  # sent with archive: false
    assert missing.status_code == 404 and "public" not in missing.headers.get("cache-control", "")
