"""Changing subscribers in the admin app on a real ``mailer serve``: each change (add, edit,
unsubscribe, resubscribe with its reason, suppress, forget) written to the audit log; roles
without manage_audience refused every change; CSRF; hostile text shown escaped on every
subscriber page; addresses with URL characters reachable."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from mailer.accounts.audit import entries
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers, find_subscribers
from mailer.audience.suppressions import find_suppression
from mailer.web.admin._subscriber_pages import address_path
from tests.admin_helpers import (
    ADMIN,
    EDITOR,
    ESCAPED,
    HOSTILE,
    VIEWER,
    add_staff,
    logged_in,
    opened_mailer,
)
from tests.conftest import Project
from tests.subscriber_page_helpers import (
    addresses_on,
    make_audience,
    page_of,
    post_form,
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


def test_each_change_is_made_and_written_to_the_audit_log(
    server: WebServer, mailer: Mailer
) -> None:
    make_audience(mailer)
    email = "new@example.com"
    with logged_in(server, ADMIN) as admin:
        added = post_form(
            admin,
            "/admin/subscribers/add",
            email="New@Example.com",
            lists=["weekly", "daily"],
            name="Nia New",
            timezone="Asia/Shanghai",
            attributes="country=CN\ntags=ai; policy",
            confirmed="1",
        )
        assert added.status_code == 200, added.text
        assert "New@example.com is added." in added.text
        assert addresses_on(added) == ["New@example.com"]
        page = page_of("New@example.com")
        shown = admin.get(page)
        assert "weekly confirmed admin" in text_of(shown) and "ai; policy" in shown.text
        assert "country=CN\ntags=ai;policy</textarea>" in shown.text

        edited = post_form(
            admin,
            page + "/edit",
            name="Nia Newer",
            timezone="",
            attributes="tags=ai\ncity=Shanghai",
        )
        assert edited.status_code == 200 and "New@example.com is saved." in edited.text
        assert "city=Shanghai\ntags=ai</textarea>" in edited.text  # country is removed
        left = post_form(admin, page + "/unsubscribe", list="weekly", reason="asked by phone")
        assert "New@example.com is unsubscribed from weekly." in left.text
        back = post_form(admin, page + "/resubscribe", list="weekly", reason="wrote to say sorry")
        assert "New@example.com is subscribed to weekly again." in back.text
        suppressed = post_form(admin, page + "/suppress", reason="manual", detail="legal hold")
        assert "New@example.com is suppressed." in suppressed.text
        confirm = admin.get(page + "/forget")
        assert confirm.status_code == 200
        assert "every list membership (2)" in confirm.text
        forgotten = post_form(admin, page + "/forget")
        assert forgotten.status_code == 200 and "The subscriber is forgotten" in forgotten.text
        assert admin.get(page).status_code == 404
    actions = [entry.action for entry in reversed(entries(mailer, limit=20))]
    assert actions[-6:] == [
        "subscriber.add",
        "subscriber.edit",
        "subscriber.unsubscribe",
        "subscriber.resubscribe",
        "suppression.add",
        "subscriber.forget",
    ]
    assert list(find_subscribers(mailer.engine, search="new")) == []
    with mailer.engine.connect() as connection:
        kept = find_suppression(connection, email)
    assert kept is not None and kept.email is None  # only the hash stays
    [resubscribed] = entries(mailer, limit=1, action_prefix="subscriber.resubscribe")
    assert resubscribed.detail is None or "New@example.com" not in str(resubscribed.detail)


def test_a_resubscribe_without_a_reason_is_refused_at_the_field(
    server: WebServer, mailer: Mailer
) -> None:
    make_audience(mailer)
    with logged_in(server, ADMIN) as admin:
        page = page_of("cat@example.com")
        refused = post_form(admin, page + "/resubscribe", list="weekly", reason="  ")
        assert refused.status_code == 400
        assert re.search(
            r'id="resubscribe-reason"[^>]*aria-invalid="true"[^>]*>\s*'
            r'<p class="error-message" id="resubscribe-reason-error" role="alert">'
            r"say why they are subscribed again</p>",
            refused.text,
        ), refused.text
        unknown = post_form(admin, page + "/resubscribe", list="nope", reason="asked")
        assert unknown.status_code == 400 and 'id="resubscribe-list-error"' in unknown.text
    [cat] = find_subscribers(mailer.engine, list_name="weekly", status="unsubscribed")
    assert cat.email == "cat@example.com"
    assert entries(mailer, limit=5, action_prefix="subscriber.") == []


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"email": "not an address", "lists": "weekly"}, 'id="add-email-error"'),
        ({"email": "a\x00@example.com", "lists": "weekly"}, 'id="add-email-error"'),
        ({"email": "ok@example.com"}, 'id="add-lists-error"'),
        ({"email": "ok@example.com", "lists": "nope"}, 'id="add-lists-error"'),
        ({"email": "ok@example.com", "lists": "weekly", "timezone": "Mars/Base"}, "add-timezone"),
        ({"email": "ok@example.com", "lists": "weekly", "attributes": "no equals"}, "line 1"),
        ({"email": "ok@example.com", "lists": "weekly", "name": "n" * 201}, 'id="add-name-error"'),
        ({"email": "cat@example.com", "lists": "weekly"}, "only a resubscribe"),
    ],
)
def test_a_wrong_add_is_refused_at_its_field_and_nothing_is_stored(
    server: WebServer, mailer: Mailer, fields: dict[str, str], named: str
) -> None:
    make_audience(mailer)
    with logged_in(server, ADMIN) as admin:
        answer = post_form(admin, "/admin/subscribers/add", **fields)
    assert answer.status_code in (400, 409), answer.text
    assert named in answer.text
    assert 'id="add-form"' in answer.text  # the form, to correct it
    assert len(list(find_subscribers(mailer.engine))) == 4


@pytest.mark.parametrize("who", [VIEWER, EDITOR])
def test_a_role_without_manage_audience_is_refused_every_change(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    make_audience(mailer)
    with logged_in(server, who) as client:
        search = client.get("/admin/subscribers")
        page = client.get("/admin/subscribers/cat@example.com")
        assert search.status_code == page.status_code == 200
        assert "may look at subscribers but not change them" in search.text
        assert '<form method="post" action="/admin/subscribers' not in search.text + page.text
        one = "/admin/subscribers/cat@example.com"
        refused = [
            client.get(one + "/forget"),
            post_form(client, "/admin/subscribers/add", email="n@example.com", lists="weekly"),
            post_form(client, one + "/edit", name="x"),
            post_form(client, one + "/unsubscribe", list=""),
            post_form(client, one + "/resubscribe", list="weekly", reason="r"),
            post_form(client, one + "/suppress", reason="manual"),
            post_form(client, one + "/forget"),
        ]
    for answer in refused:
        assert answer.status_code == 403 and "managing lists and subscribers" in answer.text
    assert len(list(find_subscribers(mailer.engine))) == 4
    assert entries(mailer, limit=5, action_prefix="subscriber.") == []
    with mailer.engine.connect() as connection:
        assert find_suppression(connection, "cat@example.com") is None


def test_every_subscriber_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    make_audience(mailer)
    one = "/admin/subscribers/cat@example.com"
    with logged_in(server, ADMIN) as admin:
        for path, data in (
            ("/admin/subscribers/add", {"email": "n@example.com", "lists": "weekly"}),
            (one + "/edit", {"name": "x"}),
            (one + "/unsubscribe", {"list": ""}),
            (one + "/resubscribe", {"list": "weekly", "reason": "r"}),
            (one + "/suppress", {"reason": "manual"}),
            (one + "/forget", {}),
        ):
            answer = admin.post(path, data=data)
            assert answer.status_code == 403 and "The form could not be sent" in answer.text
    assert len(list(find_subscribers(mailer.engine))) == 4
    assert entries(mailer, limit=5, action_prefix="subscriber.") == []


def test_hostile_text_is_escaped_on_every_subscriber_page(
    server: WebServer, mailer: Mailer
) -> None:
    create_list(mailer.engine, "weekly", title=HOSTILE)
    add_subscribers(
        mailer.engine,
        ["x@example.com"],
        "weekly",
        name=HOSTILE,
        attributes={"note": HOSTILE, "tags": [HOSTILE]},
    )
    one = "/admin/subscribers/x@example.com"
    with logged_in(server, ADMIN) as admin:
        post_form(admin, one + "/suppress", reason="manual", detail=HOSTILE)
        pages = [
            admin.get("/admin/subscribers"),
            admin.get("/admin/subscribers", params={"q": HOSTILE}),
            admin.get("/admin/subscribers", params={"segment": HOSTILE}),
            admin.get("/admin/subscribers", params={"list": HOSTILE}),
            admin.get(one),
            admin.get(one + "/forget"),
            post_form(admin, one + "/resubscribe", list="weekly", reason=HOSTILE),
            post_form(admin, one + "/unsubscribe", list=HOSTILE, reason=HOSTILE),
            post_form(admin, one + "/edit", attributes=HOSTILE),
            post_form(admin, "/admin/subscribers/add", email=HOSTILE, name=HOSTILE, lists="weekly"),
            admin.get("/admin/subscribers/" + address_path(HOSTILE)),
        ]
    for page in pages:
        assert "<script>" not in page.text, page.request.url
        assert "onerror=alert(1)>" not in page.text, page.request.url
    assert ESCAPED in pages[0].text and ESCAPED in pages[4].text
    assert pages[-1].status_code == 404


def test_an_address_with_url_characters_has_a_page_and_its_forms_work(
    server: WebServer, mailer: Mailer
) -> None:
    create_list(mailer.engine, "weekly")
    email = "a/./b?c#d%e@example.com"
    add_subscribers(mailer.engine, [email], "weekly")
    with logged_in(server, ADMIN) as admin:
        search = admin.get("/admin/subscribers", params={"q": "a/"})
        assert addresses_on(search) == [email]
        href = re.search(r'<td data-label="Address" class="address"><a href="([^"]+)"', search.text)
        assert href and href.group(1) == "/admin/subscribers/a%2F.%2Fb%3Fc%23d%25e@example.com"
        page = admin.get(href.group(1))
        assert page.status_code == 200 and "Subscriber a/./b?c#d%e@example.com" in page.text
        left = post_form(admin, href.group(1) + "/unsubscribe", list="weekly", reason="")
        assert f"{email} is unsubscribed from weekly." in left.text
    [gone] = find_subscribers(mailer.engine, list_name="weekly", status="unsubscribed")
    assert gone.email == email
