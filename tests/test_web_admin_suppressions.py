"""The admin app's suppressions and schedules on a real ``mailer serve``: suppressions paged
by address and searched by its start, an address suppressed and a suppression lifted with a
reason the audit log keeps; hostile input refused naming the field and hostile text shown
escaped; a role without manage_audience sees them without a form and is refused changes;
the recurring schedules with their next tick in their zone and in UTC."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from mailer.accounts.audit import entries
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.suppressions import suppress, suppressions_after
from mailer.db.engine import write_transaction
from mailer.db.tables import schedules
from mailer.services import schedules as schedule_service
from tests.admin_helpers import (
    ADMIN,
    EDITOR,
    ESCAPED,
    HOSTILE,
    VIEWER,
    add_staff,
    form_token,
    logged_in,
    opened_mailer,
)
from tests.conftest import Project
from tests.web_server import WebServer


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_staff(db_project)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def _addresses(page: httpx.Response) -> list[str]:
    return re.findall(r'<td data-label="Address" class="address">([^<]*)</td>', page.text)


def _suppressed(mailer: Mailer) -> list[str | None]:
    return [found.email for _, found in suppressions_after(mailer.engine, None, 500)]


def test_an_admin_suppresses_an_address_and_lifts_it_with_a_reason(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, ADMIN) as admin:
        token = form_token(admin, "/admin/suppressions")
        added = admin.post(
            "/admin/suppressions/add",
            data={
                "csrf_token": token,
                "email": "Bob@Example.com",
                "reason": "bounce",
                "detail": "x",
            },
        )
        assert added.status_code == 200 and "Bob@example.com is suppressed." in added.text
        assert _addresses(added) == ["Bob@example.com"]
        twice = admin.post(
            "/admin/suppressions/add",
            data={"csrf_token": token, "email": "bob@example.com", "reason": "manual"},
        )
        assert "was suppressed already (bounce)" in twice.text

        lifted = admin.post(
            "/admin/suppressions/lift",
            data={"csrf_token": token, "email": "Bob@Example.com", "reason": "asked us by phone"},
        )
        assert lifted.status_code == 200 and "Bob@example.com may be mailed again." in lifted.text
        assert _addresses(lifted) == [] and "No suppression." in lifted.text

        gone = admin.post(
            "/admin/suppressions/lift",
            data={"csrf_token": token, "email": "bob@example.com", "reason": "again"},
        )
        assert gone.status_code == 404 and "is not suppressed" in gone.text
    assert _suppressed(mailer) == []
    [entry] = entries(mailer, limit=1, action_prefix="suppression.remove")
    assert entry.target == "Bob@example.com" and entry.actor.endswith(ADMIN)
    assert entry.detail == {
        "reason": "asked us by phone",
        "suppressed_for": "bounce",
        "detail": "x",
    }


def test_suppressions_are_searched_by_prefix_and_paged_each_shown_once(
    server: WebServer, mailer: Mailer
) -> None:
    emails = [f"user{number:03}@example.com" for number in range(230)]
    for email in emails:
        suppress(mailer.engine, email, "bounce")
    suppress(mailer.engine, "other@example.org", "manual")
    with logged_in(server, VIEWER) as viewer:
        found = viewer.get("/admin/suppressions", params={"q": "USER01"})
        assert _addresses(found) == [f"user{number:03}@example.com" for number in range(10, 20)]
        seen: list[str] = []
        path: str | None = "/admin/suppressions?q=user"
        while path:
            page = viewer.get(path)
            assert page.status_code == 200
            seen += _addresses(page)
            more = re.search(r'href="(/admin/suppressions\?[^"]+)"[^>]*>More addresses', page.text)
            path = more.group(1).replace("&amp;", "&") if more else None
        assert seen == emails
        wildcards = viewer.get("/admin/suppressions", params={"q": "%_"})
        assert wildcards.status_code == 200 and _addresses(wildcards) == []
        for query in ({"q": "\x00"}, {"after": "\x00", "after_hash": "x"}):
            assert viewer.get("/admin/suppressions", params=query).status_code == 200


@pytest.mark.parametrize(
    ("path", "fields", "named"),
    [
        ("add", {"email": "not an address"}, "email"),
        ("add", {"email": "a\x00@example.com"}, "email: must not hold control characters"),
        ("add", {"email": "a" * 321}, "email: at most 320 characters"),
        ("add", {"email": "ok@example.com", "reason": "whim"}, "suppression reason"),
        ("add", {"email": "ok@example.com", "detail": "\x00"}, "detail: must not hold control"),
        ("add", {"email": "ok@example.com", "detail": "d" * 1001}, "detail: at most 1000"),
        ("lift", {"email": "kept@example.com"}, "reason: say why the suppression is lifted"),
        ("lift", {"email": "kept@example.com", "reason": "r\x00"}, "reason: must not hold"),
        ("lift", {"email": "kept@example.com", "reason": "r" * 501}, "reason: at most 500"),
        ("lift", {"email": "<b>", "reason": "r"}, "email"),
    ],
)
def test_hostile_input_is_refused_naming_the_field(
    server: WebServer, mailer: Mailer, path: str, fields: dict[str, str], named: str
) -> None:
    suppress(mailer.engine, "kept@example.com", "manual")
    with logged_in(server, ADMIN) as admin:
        token = form_token(admin, "/admin/suppressions")
        answer = admin.post(f"/admin/suppressions/{path}", data={"csrf_token": token, **fields})
    assert answer.status_code == 400, answer.text
    assert named in answer.text.replace("&#39;", "'")
    assert _suppressed(mailer) == ["kept@example.com"]


def test_hostile_text_is_shown_escaped(server: WebServer, mailer: Mailer) -> None:
    suppress(mailer.engine, "kept@example.com", "manual", detail=HOSTILE)
    with logged_in(server, ADMIN) as admin:
        page = admin.get("/admin/suppressions", params={"q": HOSTILE})
        assert HOSTILE not in page.text and ESCAPED in page.text  # the search, shown again
        page = admin.get("/admin/suppressions")
        assert HOSTILE not in page.text and ESCAPED in page.text
        token = form_token(admin, "/admin/suppressions")
        refused = admin.post(
            "/admin/suppressions/lift", data={"csrf_token": token, "email": HOSTILE, "reason": "r"}
        )
        assert refused.status_code == 400 and HOSTILE not in refused.text


@pytest.mark.parametrize("who", [VIEWER, EDITOR])
def test_a_role_without_manage_audience_sees_suppressions_read_only(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    suppress(mailer.engine, "kept@example.com", "manual")
    with logged_in(server, who) as client:
        page = client.get("/admin/suppressions")
        assert page.status_code == 200 and _addresses(page) == ["kept@example.com"]
        assert "/admin/suppressions/add" not in page.text
        assert "/admin/suppressions/lift" not in page.text
        token = form_token(client, "/admin/suppressions")
        refused = [
            client.post(
                "/admin/suppressions/add", data={"csrf_token": token, "email": "new@example.com"}
            ),
            client.post(
                "/admin/suppressions/lift",
                data={"csrf_token": token, "email": "kept@example.com", "reason": "r"},
            ),
        ]
    for answer in refused:
        assert answer.status_code == 403 and "managing lists and subscribers" in answer.text
    assert _suppressed(mailer) == ["kept@example.com"]


def test_each_suppression_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    suppress(mailer.engine, "kept@example.com", "manual")
    with logged_in(server, ADMIN) as admin:
        for path, data in (
            ("/admin/suppressions/add", {"email": "new@example.com"}),
            ("/admin/suppressions/lift", {"email": "kept@example.com", "reason": "r"}),
        ):
            answer = admin.post(path, data=data)
            assert answer.status_code == 403 and "The form could not be sent" in answer.text
    assert _suppressed(mailer) == ["kept@example.com"]


def test_the_schedules_page_shows_each_with_its_next_tick_in_its_zone_and_in_utc(
    server: WebServer, mailer: Mailer
) -> None:
    create_list(mailer.engine, "weekly")
    schedule_service.add(
        mailer, "mondays", cron="0 9 * * MON", list_name="weekly", timezone="Asia/Shanghai"
    )
    with write_transaction(mailer.engine) as connection:
        connection.execute(
            sa.update(schedules).values(
                last_tick_at=datetime(2026, 1, 5, 1, 0, tzinfo=UTC), last_result=HOSTILE
            )
        )
    with logged_in(server, VIEWER) as viewer:
        page = viewer.get("/admin/schedules")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    next_tick = schedule_service.schedule_named(mailer, "mondays").next_tick(mailer.clock())
    assert next_tick is not None
    assert "mondays" in text and "0 9 * * MON" in text and "Asia/Shanghai" in text
    day = next_tick.strftime("%Y-%m-%d")
    assert f"{day} 09:00 Asia/Shanghai" in text
    assert f"{day} 01:00 UTC" in text  # 09:00 in Shanghai
    assert "2026-01-05 01:00" in text and "next-ready" in text
    assert HOSTILE not in page.text and ESCAPED in page.text
