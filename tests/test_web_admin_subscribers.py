"""The admin app's subscribers pages on a real ``mailer serve``: the search by the start of an
address or a name, by list, status and segment (a wrong segment shown at its field with its
column), 50 a page followed to the end; a subscriber's page with their lists, attributes,
deliveries and events. The changes are in test_web_admin_subscriber_changes.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers
from tests.admin_helpers import (
    VIEWER,
    add_account,
    add_staff,
    logged_in,
    opened_mailer,
)
from tests.conftest import Project
from tests.report_fixtures import ARTICLE, HOME, Sent, posted_events
from tests.subscriber_page_helpers import (
    addresses_on,
    make_audience,
    rows_of,
    text_of,
)
from tests.web_server import WebServer


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_staff(db_project)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def test_subscribers_are_searched_by_address_name_list_status_and_segment(
    server: WebServer, mailer: Mailer
) -> None:
    make_audience(mailer)
    with logged_in(server, VIEWER) as viewer:

        def found(**params: str) -> list[str]:
            page = viewer.get("/admin/subscribers", params=params)
            assert page.status_code == 200, page.text
            return addresses_on(page)

        assert found() == [
            "ann@example.com",
            "anna@example.org",
            "bob@example.com",
            "cat@example.com",
        ]
        assert found(q="ANN") == ["ann@example.com", "anna@example.org"]
        assert found(q="lin") == ["anna@example.org", "bob@example.com"]  # Lin Wei, Lina Bo
        assert found(q="lin wei") == ["anna@example.org"]
        assert found(q="Lee") == []  # a name matches from its start
        assert found(list="weekly") == ["ann@example.com", "bob@example.com", "cat@example.com"]
        assert found(list="weekly", status="unsubscribed") == ["cat@example.com"]
        assert found(list="weekly", status="confirmed") == ["ann@example.com"]
        assert found(segment='country = "CN"') == ["anna@example.org", "bob@example.com"]
        assert found(q="b", list="weekly", segment='country = "CN"') == ["bob@example.com"]
        assert found(q="%_") == [] and found(q="\x00") == []
        statuses = viewer.get("/admin/subscribers", params={"list": "weekly"})
        assert '<td data-label="Status">unsubscribed</td>' in statuses.text
        assert "Weekly news" in statuses.text  # the list's title in the choice


def test_a_wrong_segment_is_shown_at_its_field_with_its_column(
    server: WebServer, mailer: Mailer
) -> None:
    make_audience(mailer)
    with logged_in(server, VIEWER) as viewer:
        page = viewer.get("/admin/subscribers", params={"segment": "country = CN", "q": "a"})
        assert page.status_code == 400
        error = re.search(
            r'<div class="segment-error" id="search-segment-error"[^>]*>(.*?)</div>',
            page.text,
            re.S,
        )
        assert error, page.text
        assert "Column 11: unexpected &#39;CN&#39;; values are quoted" in error.group(1)
        assert '<pre class="segment-caret">country = CN\n          ^</pre>' in error.group(1)
        assert 'aria-invalid="true"' in page.text
        assert "country = CN</textarea>" in page.text  # shown again, to be corrected
        assert 'value="a"' in page.text
        assert addresses_on(page) == []

        status = viewer.get("/admin/subscribers", params={"status": "confirmed"})
        assert status.status_code == 400
        assert re.search(r'id="search-status-error"[^>]*>[^<]*choose a list too', status.text)
        unknown = viewer.get("/admin/subscribers", params={"list": "nope"})
        assert unknown.status_code == 404
        assert re.search(
            r'id="search-list-error"[^>]*>[^<]*nope', unknown.text.replace("&#39;", "'")
        )


def test_pages_of_50_are_followed_to_the_end_each_shown_once(
    server: WebServer, mailer: Mailer
) -> None:
    create_list(mailer.engine, "weekly")
    emails = [f"user{number:03}@example.com" for number in range(120)]
    add_subscribers(mailer.engine, emails, "weekly", name="Same Name")
    add_subscribers(mailer.engine, ["zed@example.com"], "weekly", name="Other")
    with logged_in(server, VIEWER) as viewer:
        seen: list[str] = []
        sizes = []
        path: str | None = "/admin/subscribers?q=same&list=weekly"
        while path:
            page = viewer.get(path)
            assert page.status_code == 200
            sizes.append(len(addresses_on(page)))
            seen += addresses_on(page)
            more = re.search(r'href="(/admin/subscribers\?[^"]+)"[^>]*>Next page', page.text)
            path = more.group(1).replace("&amp;", "&") if more else None
            assert path is None or ("q=same" in path and "list=weekly" in path)
        assert seen == emails and sizes == [50, 50, 20]
        for after in ("\x00", "x" * 400):
            assert viewer.get("/admin/subscribers", params={"after": after}).status_code in (
                200,
                400,
            )


def test_a_subscribers_page_shows_lists_attributes_deliveries_and_events(
    sent: Sent, db_project: Project
) -> None:
    add_account(db_project, VIEWER, Role.VIEWER)
    sent.post(posted_events(sent))
    create_list(sent.engine, "daily")
    add_subscribers(sent.engine, ["bob@example.com"], "daily", attributes={"country": "CN"})
    with logged_in(sent.server, VIEWER) as viewer:
        page = viewer.get("/admin/subscribers/bob@example.com")
    assert page.status_code == 200, page.text
    text = text_of(page)
    memberships = text.split("Lists List Status")[1].split("Attributes")[0]
    assert "daily confirmed cli" in memberships
    assert "weekly unsubscribed cli" in memberships  # SendGrid told of his unsubscribe
    assert "country CN" in text.split("Attributes")[1]
    deliveries = text.split("Deliveries (the latest 50)")[1].split("Events")[0]
    assert f"#{sent.campaign} #87 sent" in deliveries
    campaign = f"#{sent.campaign}"
    assert rows_of(page, "events") == [
        ["unsubscribe", "2025-12-05 17:01:00", campaign, ""],
        ["click", "2025-12-05 16:08:00", campaign, ARTICLE],
        ["click", "2025-12-05 16:07:00", campaign, HOME],
        ["click", "2025-12-05 16:06:00", campaign, HOME],
        ["open", "2025-12-05 16:05:00", campaign, ""],
        ["open", "2025-12-05 15:10:00", campaign, ""],
        ["delivered", "2025-12-05 15:02:00", campaign, ""],
        ["processed", "2025-12-05 15:00:00", campaign, ""],
    ]
    assert f'href="/admin/campaigns/{sent.campaign}"' in page.text
    for other in ("ann", "cat", "dan", "eve"):
        assert f"{other}@example.com" not in page.text
    assert "/unsubscribe" not in page.text and "Forget this subscriber" not in page.text
