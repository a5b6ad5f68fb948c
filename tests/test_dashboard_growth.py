"""The dashboard's list growth (``mailer.services.list_growth``) on SQLite and PostgreSQL: who
joined, confirmed and left each list in the last 7 and 30 days, read from the consent record
at times set by the injected clock; a membership changed for another reason is no join; a
list without changes shows zeros; a list made again under a deleted one's name starts afresh;
and the admin page shows the figures, a hostile list title escaped, and fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from mailer.accounts.roles import Principal, Role
from mailer.actions import subscribers as actions
from mailer.app import Mailer
from mailer.audience.lists import create_list, delete_list
from mailer.audience.subscribers import add_subscribers
from mailer.clock import utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import lists, subscribers
from mailer.services.confirmation import confirm_member
from mailer.services.consent import Origin, record
from mailer.services.list_growth import Growth, growth_of
from mailer.services.signup import signup
from tests.admin_helpers import OWNER, PASSWORD, add_account, logged_in
from tests.browser_checks import assert_fits_width, console_problems
from tests.conftest import Project
from tests.report_fixtures import Sent
from tests.service_helpers import T0, MovingClock
from tests.web_server import WebServer, new_page

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORM = Origin("signup form")
ADMIN = Principal("user", "owner@example.com", Role.OWNER, True, user_id=1)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(T0 - timedelta(days=45))


@pytest.fixture
def mailer(db_project: Project, clock: MovingClock) -> Iterator[Mailer]:
    app = Mailer(db_project.settings(), clock=clock, environ={})
    create_list(app.engine, "news", title="News", public=True, clock=clock)
    create_list(app.engine, "weekly", double_opt_in=True, clock=clock)
    create_list(app.engine, "quiet", title=HOSTILE, clock=clock)
    yield app
    app.close()


def _at(clock: MovingClock, days_ago: float) -> None:
    clock.now = T0 - timedelta(days=days_ago)


def _join(mailer: Mailer, email: str, list_name: str) -> None:
    signup(mailer, email, "", [list_name], FORM, deliver=lambda job: None)


def _figures(growth: tuple[Growth, ...]) -> list[tuple[int, int, int, int, int]]:
    return [(g.days, g.joined, g.confirmed, g.left, g.net) for g in growth]


def test_joins_confirmations_and_leaves_count_in_their_window_and_list(
    mailer: Mailer, clock: MovingClock
) -> None:
    engine = mailer.engine
    _at(clock, 40)
    _join(mailer, "ann@example.com", "news")  # too long ago for either window
    add_subscribers(engine, ["bob@example.com", "cat@example.com", "dan@example.com"], "weekly")
    _at(clock, 20)
    _join(mailer, "eve@example.com", "news")
    assert confirm_member(mailer, "bob@example.com", "weekly", Origin("command line"))
    _at(clock, 3)
    _join(mailer, "fay@example.com", "news")
    assert confirm_member(mailer, "cat@example.com", "weekly", Origin("command line"))
    actions.unsubscribe(mailer, ADMIN, "ann@example.com", list_name="news", reason="asked")
    # Touched for another reason: an import confirming a member is no join (nor a consent).
    add_subscribers(engine, ["dan@example.com"], "weekly", confirmed=True, clock=clock)
    _at(clock, 1)
    actions.resubscribe(mailer, ADMIN, "ann@example.com", list_name="news", reason="asked")
    _at(clock, 0)

    growth = growth_of(engine, clock())
    # news: fay and ann (back) joined in 7 days, ann left; eve too in 30 days.
    assert _figures(growth["news"]) == [(7, 2, 0, 1, 1), (30, 3, 0, 1, 2)]
    assert _figures(growth["weekly"]) == [(7, 0, 1, 0, 0), (30, 0, 2, 0, 0)]
    assert _figures(growth["quiet"]) == [(7, 0, 0, 0, 0), (30, 0, 0, 0, 0)]
    # Seen from 8 days earlier, the last week's changes are still to come.
    earlier = growth_of(engine, T0 - timedelta(days=8))
    assert _figures(earlier["news"]) == [(7, 0, 0, 0, 0), (30, 1, 0, 0, 1)]


def test_one_person_counts_once_however_often_they_act(mailer: Mailer, clock: MovingClock) -> None:
    _at(clock, 2)
    _join(mailer, "ann@example.com", "news")
    for _ in range(3):
        actions.unsubscribe(mailer, ADMIN, "ann@example.com", list_name="news", reason="asked")
        actions.resubscribe(mailer, ADMIN, "ann@example.com", list_name="news", reason="asked")
    _at(clock, 0)
    assert _figures(growth_of(mailer.engine, clock())["news"])[0] == (7, 1, 0, 1, 0)


def test_a_list_made_again_starts_without_the_deleted_ones_record(
    mailer: Mailer, clock: MovingClock
) -> None:
    _at(clock, 10)
    _join(mailer, "ann@example.com", "news")
    _join(mailer, "bob@example.com", "news")
    actions.unsubscribe(mailer, ADMIN, "bob@example.com", list_name="news", reason="asked")
    _at(clock, 5)
    delete_list(mailer.engine, "news")
    assert "news" not in growth_of(mailer.engine, clock())
    _at(clock, 4)
    create_list(mailer.engine, "news", public=True, clock=clock)
    _at(clock, 0)
    # bob comes back unsubscribed (as the record of who left says), which is no change.
    assert _figures(growth_of(mailer.engine, clock())["news"])[1] == (30, 0, 0, 0, 0)


@pytest.fixture
def owner(sent: Sent, db_project: Project) -> Iterator[httpx.Client]:
    add_account(db_project, OWNER, Role.OWNER)
    with logged_in(sent.server, OWNER) as client:
        yield client


def _growth_rows(page: httpx.Response) -> list[list[str]]:
    """The growth table's rows as their cells' text."""
    section = page.text.split('id="growth"')[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
    found = [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows)
    ]
    return [cells for cells in found if cells]  # not the heading's


def test_the_dashboard_shows_each_lists_growth_escaped(sent: Sent, owner: httpx.Client) -> None:
    """The server reads the real clock: the record is written days before now."""
    create_list(sent.engine, "hostile", title=HOSTILE)
    now = utc_now()
    ids = sent.ids
    with write_transaction(sent.engine) as connection:
        # The list was made just now; say it was made two months ago, before its record.
        made = now - timedelta(days=60)
        connection.execute(sa.update(lists).where(lists.c.name == "weekly").values(created_at=made))
        for days_ago, person, action in [
            (45, "ann", "unsubscribe"),
            (20, "eve", "unsubscribe"),
            (12, "cat", "subscribe"),
            (12, "dan", "subscribe"),
            (3, "bob", "confirm"),
            (2, "ann", "subscribe"),
        ]:  # written as time goes, as the record always is
            at: datetime = now - timedelta(days=days_ago)
            record(connection, ids[person], ["weekly"], action, FORM, at, keep_ip=False)
    page = owner.get("/admin")
    assert page.status_code == 200
    rows = _growth_rows(page)
    weekly = [row[1:] for row in rows if "(weekly)" in row[0]]
    assert weekly == [["last 7 days", "1", "1", "0", "+1"], ["last 30 days", "3", "1", "1", "+2"]]
    hostile = [row[1:] for row in rows if "(hostile)" in row[0]]
    assert hostile == [["last 7 days", "0", "0", "0", "0"], ["last 30 days", "0", "0", "0", "0"]]
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_a_row_written_after_an_older_one_still_counts(mailer: Mailer, clock: MovingClock) -> None:
    """An action takes its time before its transaction, which may wait for another's: the
    record is not quite in the order of its times."""
    _at(clock, 40)
    _join(mailer, "ann@example.com", "news")
    _join(mailer, "bob@example.com", "news")
    with write_transaction(mailer.engine) as connection:
        ids = dict(connection.execute(sa.select(subscribers.c.email, subscribers.c.id)).all())
        for days_ago, email in [(29.9, "ann@example.com"), (30.1, "bob@example.com")]:
            at = T0 - timedelta(days=days_ago)  # the older one written last
            record(connection, ids[email], ["news"], "unsubscribe", FORM, at, keep_ip=False)
    assert _figures(growth_of(mailer.engine, T0)["news"])[1] == (30, 0, 0, 1, -1)


@pytest.mark.browser
def test_the_growth_table_fits_a_phone_with_nothing_refused(
    chromium: Browser, db_project: Project, project_engine: sa.Engine, web_server: WebServer
) -> None:
    add_account(db_project, OWNER, Role.OWNER)
    long_title = "A list whose title is long enough to wrap twice on a phone: " + HOSTILE
    create_list(project_engine, "a-rather-long-list-name-for-a-phone", title=long_title)
    page = new_page(chromium, width=375, height=800)
    problems = console_problems(page)
    page.goto(web_server.url("/admin/login"))
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="List growth")).to_be_visible()
    expect(page.locator("#growth ~ table td").first).to_contain_text(HOSTILE)
    assert_fits_width(page)
    assert problems == []
