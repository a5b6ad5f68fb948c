"""The admin app's lists on a real ``mailer serve``: an admin creates a list, sees it with its
counts, changes it, and deletes it after a page saying what goes with it (members, campaigns
not done, schedules); hostile names and text refused naming the field or shown escaped;
viewers and editors see the lists without a form and are refused every change."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list, list_with_counts
from mailer.errors import NotFoundError
from mailer.services import schedules as schedule_service
from mailer.services import sends
from tests.admin_helpers import (
    ADMIN,
    EDITOR,
    ESCAPED,
    HOSTILE,
    VIEWER,
    add_account,
    add_staff,
    form_token,
    logged_in,
    opened_mailer,
)
from tests.conftest import Project
from tests.report_fixtures import Sent
from tests.web_server import WebServer


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_staff(db_project)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def _create(client: httpx.Client, **fields: str) -> httpx.Response:
    token = form_token(client, "/admin/lists")
    return client.post("/admin/lists/create", data={"csrf_token": token, **fields})


def test_an_admin_creates_a_list_sees_it_with_its_counts_and_changes_it(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, ADMIN) as admin:
        created = _create(
            admin, name="weekly", title="Weekly news", description="Every Monday.", public="1"
        )
        assert created.status_code == 200, created.text
        assert "List weekly is created." in created.text
        assert "Opt-in weekly Weekly news 0 0 0 public single" in _text(created)

        page = admin.get("/admin/lists/weekly")
        assert page.status_code == 200 and "Every Monday." in page.text
        token = form_token(admin, "/admin/lists/weekly")
        edited = admin.post(
            "/admin/lists/weekly/edit",
            data={"csrf_token": token, "title": "Monday news", "description": "Mondays."},
        )
        assert edited.status_code == 200 and "List weekly is saved." in edited.text
        again = admin.post(
            "/admin/lists/weekly/edit",
            data={"csrf_token": token, "title": "Monday news", "description": "Mondays."},
        )
        assert "Nothing was changed." in again.text
    changed = list_with_counts(mailer.engine, "weekly")
    assert (changed.title, changed.description, changed.public) == (
        "Monday news",
        "Mondays.",
        False,
    )
    actions = [entry.action for entry in entries(mailer, limit=10, action_prefix="list.")]
    assert actions == ["list.update", "list.create"]


def test_deleting_a_list_says_first_what_goes_with_it(
    sent: Sent, db_project: Project, mailer: Mailer
) -> None:
    add_account(db_project, ADMIN, Role.ADMIN)
    plan = sends.plan(mailer, "87", "weekly", again=True)  # 87 went to weekly already
    at = sends.send_time(mailer, "+2h")
    assert at is not None
    waiting = sends.schedule(mailer, plan, at)
    schedule_service.add(mailer, "mondays", cron="0 9 * * MON", list_name="weekly")
    with logged_in(sent.server, ADMIN) as admin:
        confirm = admin.get("/admin/lists/weekly/delete")
        assert confirm.status_code == 200
        text = _text(confirm)
        assert "Its 5 memberships are deleted: 5 confirmed, 0 unconfirmed, 0 unsubscribed" in text
        assert f"#{waiting.id}: issue 87, scheduled" in text
        assert f"#{sent.campaign}:" not in text  # sent already: not affected
        assert "mondays" in text.split("Recurring schedules")[1]
        assert list_with_counts(mailer.engine, "weekly")  # asking deletes nothing

        deleted = admin.post(
            "/admin/lists/weekly/delete", data={"csrf_token": form_token(admin, "/admin/lists")}
        )
        assert deleted.status_code == 200
        assert "List weekly is deleted (5 memberships)." in deleted.text
        assert admin.get("/admin/lists/weekly").status_code == 404
    with pytest.raises(NotFoundError):
        list_with_counts(mailer.engine, "weekly")
    [entry] = entries(mailer, limit=1, action_prefix="list.delete")
    assert entry.actor.endswith(ADMIN) and entry.target == "weekly"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "Bad Name"}, "list name 'Bad Name'"),
        ({"name": "a\x00b"}, "name: must not hold control characters"),
        ({"name": "n" * 101}, "name: at most 100 characters"),
        ({"name": "ok", "title": "t\x00"}, "title: must not hold control characters"),
        ({"name": "ok", "title": "line\nbreak"}, "title: must not hold control characters"),
        ({"name": "ok", "title": "t" * 201}, "title: at most 200 characters"),
        ({"name": "ok", "description": "\x1b[31m"}, "description: must not hold control"),
        ({"name": "ok", "description": "d" * 5001}, "description: at most 5000 characters"),
    ],
)
def test_hostile_input_is_refused_naming_the_field(
    server: WebServer, mailer: Mailer, fields: dict[str, str], named: str
) -> None:
    with logged_in(server, ADMIN) as admin:
        answer = _create(admin, **fields)
    assert answer.status_code == 400, answer.text
    assert named in answer.text.replace("&#39;", "'")
    with pytest.raises(NotFoundError):
        list_with_counts(mailer.engine, "ok")


def test_a_list_taken_an_unknown_list_and_hostile_paths_are_told_not_failed(
    server: WebServer, mailer: Mailer
) -> None:
    create_list(mailer.engine, "taken")
    with logged_in(server, ADMIN) as admin:
        again = _create(admin, name="taken")
        assert again.status_code == 400 and "already exists" in again.text
        token = form_token(admin, "/admin/lists")
        for path in ("/admin/lists/nope", "/admin/lists/%00", "/admin/lists/%3Cscript%3E"):
            for method, suffix in (("GET", ""), ("GET", "/delete"), ("POST", "/edit")):
                answer = admin.request(method, path + suffix, data={"csrf_token": token})
                assert answer.status_code == 404, (method, path + suffix, answer.text)
                assert "<script>" not in answer.text
        deleted = admin.post("/admin/lists/nope/delete", data={"csrf_token": token})
        assert deleted.status_code == 404 and "no list named" in deleted.text
        assert admin.get("/admin/lists", params={"after": "\x00"}).status_code == 200


def test_hostile_text_is_shown_escaped(server: WebServer, mailer: Mailer) -> None:
    create_list(mailer.engine, "hostile", title=HOSTILE, description=HOSTILE)
    with logged_in(server, VIEWER) as viewer:
        for path in ("/admin/lists", "/admin/lists/hostile"):
            page = viewer.get(path)
            assert HOSTILE not in page.text and ESCAPED in page.text, path
    with logged_in(server, ADMIN) as admin:
        refused = _create(admin, name=HOSTILE, title=HOSTILE, description=HOSTILE)
        assert refused.status_code == 400
        assert HOSTILE not in refused.text and ESCAPED in refused.text  # typed, shown again
        confirm = admin.get("/admin/lists/hostile/delete")
        assert HOSTILE not in confirm.text


@pytest.mark.parametrize("who", [VIEWER, EDITOR])
def test_a_role_without_manage_audience_sees_lists_read_only_and_is_refused_changes(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    create_list(mailer.engine, "kept", title="Kept")
    with logged_in(server, who) as client:
        page = client.get("/admin/lists")
        assert page.status_code == 200 and "Kept" in page.text
        assert "Create a list" not in page.text and 'action="/admin/lists/create"' not in page.text
        assert "may look at lists but not change them" in page.text
        one = client.get("/admin/lists/kept")
        assert one.status_code == 200 and "Save changes" not in one.text
        assert "/delete" not in one.text
        token = form_token(client, "/admin/lists")
        refused = [
            client.post("/admin/lists/create", data={"csrf_token": token, "name": "made"}),
            client.post("/admin/lists/kept/edit", data={"csrf_token": token, "title": "Changed"}),
            client.get("/admin/lists/kept/delete"),
            client.post("/admin/lists/kept/delete", data={"csrf_token": token}),
        ]
    for answer in refused:
        assert answer.status_code == 403, answer.request.url
        assert "managing lists and subscribers" in answer.text
    assert list_with_counts(mailer.engine, "kept").title == "Kept"
    with pytest.raises(NotFoundError):
        list_with_counts(mailer.engine, "made")


def test_each_list_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    create_list(mailer.engine, "kept", title="Kept")
    with logged_in(server, ADMIN) as admin:
        for path, data in (
            ("/admin/lists/create", {"name": "made"}),
            ("/admin/lists/kept/edit", {"title": "Changed"}),
            ("/admin/lists/kept/delete", {}),
        ):
            answer = admin.post(path, data=data)
            assert answer.status_code == 403 and "The form could not be sent" in answer.text
    assert list_with_counts(mailer.engine, "kept").title == "Kept"
    with pytest.raises(NotFoundError):
        list_with_counts(mailer.engine, "made")


def test_lists_are_paged_by_name_each_shown_once(server: WebServer, mailer: Mailer) -> None:
    names = [f"list-{number:03}" for number in range(130)]
    for name in names:
        create_list(mailer.engine, name)
    seen: list[str] = []
    with logged_in(server, VIEWER) as viewer:
        path: str | None = "/admin/lists"
        while path:
            page = viewer.get(path)
            assert page.status_code == 200
            seen += re.findall(r'<tr id="list-(list-\d+)"', page.text)
            more = re.search(r'href="(/admin/lists\?after=[^"]+)"[^>]*>More lists', page.text)
            path = more.group(1).replace("&amp;", "&") if more else None
    assert seen == names
