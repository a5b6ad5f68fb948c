"""The admin app's subscribers pages on a real ``mailer serve``: the search by the start of an
address or a name, by list, status and segment (a wrong segment shown at its field with its
column), 50 a page followed to the end; a subscriber's page with their lists, attributes,
deliveries and events; each change (add, edit, unsubscribe, resubscribe with its reason,
suppress, forget) written to the audit log; roles without manage_audience refused every
change; hostile text shown escaped; addresses with URL characters reachable."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers, find_subscribers, unsubscribe
from mailer.audience.suppressions import find_suppression
from mailer.web.admin._subscriber_pages import address_path
from tests.admin_helpers import VIEWER, add_account, form_token, logged_in
from tests.conftest import Project
from tests.report_fixtures import ARTICLE, HOME, Sent, posted_events
from tests.web_server import SIGNING_KEY, WebServer

ADMIN = "admin@example.com"
EDITOR = "editor@example.com"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, ADMIN, Role.ADMIN)
    add_account(db_project, EDITOR, Role.EDITOR)
    add_account(db_project, VIEWER, Role.VIEWER)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    opened = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    yield opened
    opened.close()


def _addresses(page: httpx.Response) -> list[str]:
    found = re.findall(
        r'<td data-label="Address" class="address"><a href="[^"]*">([^<]*)</a>', page.text
    )
    return [address.replace("&amp;", "&") for address in found]


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def _page_of(email: str) -> str:
    return f"/admin/subscribers/{address_path(email)}"


def _audience(mailer: Mailer) -> None:
    create_list(mailer.engine, "weekly", title="Weekly news", double_opt_in=True)
    create_list(mailer.engine, "daily")
    add = add_subscribers
    add(mailer.engine, ["ann@example.com"], "weekly", name="Ann Lee", confirmed=True)
    add(mailer.engine, ["anna@example.org"], "daily", name="Lin Wei", attributes={"country": "CN"})
    add(mailer.engine, ["bob@example.com"], "weekly", name="Lina Bo", attributes={"country": "CN"})
    add(mailer.engine, ["cat@example.com"], "weekly", name="Cat", confirmed=True)
    unsubscribe(mailer.engine, "cat@example.com", "weekly")


def test_subscribers_are_searched_by_address_name_list_status_and_segment(
    server: WebServer, mailer: Mailer
) -> None:
    _audience(mailer)
    with logged_in(server, VIEWER) as viewer:

        def found(**params: str) -> list[str]:
            page = viewer.get("/admin/subscribers", params=params)
            assert page.status_code == 200, page.text
            return _addresses(page)

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
    _audience(mailer)
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
        assert _addresses(page) == []

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
            sizes.append(len(_addresses(page)))
            seen += _addresses(page)
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
    text = _text(page)
    memberships = text.split("Lists List Status")[1].split("Attributes")[0]
    assert "daily confirmed cli" in memberships
    assert "weekly unsubscribed cli" in memberships  # SendGrid told of his unsubscribe
    assert "country CN" in text.split("Attributes")[1]
    deliveries = text.split("Deliveries (the latest 50)")[1].split("Events")[0]
    assert f"#{sent.campaign} #87 sent" in deliveries
    campaign = f"#{sent.campaign}"
    assert _rows(page, "events") == [
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


def _rows(page: httpx.Response, table: str) -> list[list[str]]:
    """The cells of each body row of the table of class ``table``, as text."""
    body = page.text.split(f'<table class="stacked {table}">')[1].split("</table>")[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    ]


def _post(client: httpx.Client, path: str, **fields: str | list[str]) -> httpx.Response:
    token = form_token(client, "/admin/subscribers")
    return client.post(path, data={"csrf_token": token, **fields})


def test_each_change_is_made_and_written_to_the_audit_log(
    server: WebServer, mailer: Mailer
) -> None:
    _audience(mailer)
    email = "new@example.com"
    with logged_in(server, ADMIN) as admin:
        added = _post(
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
        assert _addresses(added) == ["New@example.com"]
        page = _page_of("New@example.com")
        shown = admin.get(page)
        assert "weekly confirmed admin" in _text(shown) and "ai; policy" in shown.text
        assert "country=CN\ntags=ai;policy</textarea>" in shown.text

        edited = _post(
            admin,
            page + "/edit",
            name="Nia Newer",
            timezone="",
            attributes="tags=ai\ncity=Shanghai",
        )
        assert edited.status_code == 200 and "New@example.com is saved." in edited.text
        assert "city=Shanghai\ntags=ai</textarea>" in edited.text  # country is removed
        left = _post(admin, page + "/unsubscribe", list="weekly", reason="asked by phone")
        assert "New@example.com is unsubscribed from weekly." in left.text
        back = _post(admin, page + "/resubscribe", list="weekly", reason="wrote to say sorry")
        assert "New@example.com is subscribed to weekly again." in back.text
        suppressed = _post(admin, page + "/suppress", reason="manual", detail="legal hold")
        assert "New@example.com is suppressed." in suppressed.text
        confirm = admin.get(page + "/forget")
        assert confirm.status_code == 200
        assert "every list membership (2)" in confirm.text
        forgotten = _post(admin, page + "/forget")
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
    _audience(mailer)
    with logged_in(server, ADMIN) as admin:
        page = _page_of("cat@example.com")
        refused = _post(admin, page + "/resubscribe", list="weekly", reason="  ")
        assert refused.status_code == 400
        assert re.search(
            r'id="resubscribe-reason"[^>]*aria-invalid="true"[^>]*>\s*'
            r'<p class="error-message" id="resubscribe-reason-error" role="alert">'
            r"say why they are subscribed again</p>",
            refused.text,
        ), refused.text
        unknown = _post(admin, page + "/resubscribe", list="nope", reason="asked")
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
    _audience(mailer)
    with logged_in(server, ADMIN) as admin:
        answer = _post(admin, "/admin/subscribers/add", **fields)
    assert answer.status_code in (400, 409), answer.text
    assert named in answer.text
    assert 'id="add-form"' in answer.text  # the form, to correct it
    assert len(list(find_subscribers(mailer.engine))) == 4


@pytest.mark.parametrize("who", [VIEWER, EDITOR])
def test_a_role_without_manage_audience_is_refused_every_change(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    _audience(mailer)
    with logged_in(server, who) as client:
        search = client.get("/admin/subscribers")
        page = client.get("/admin/subscribers/cat@example.com")
        assert search.status_code == page.status_code == 200
        assert "may look at subscribers but not change them" in search.text
        assert '<form method="post" action="/admin/subscribers' not in search.text + page.text
        one = "/admin/subscribers/cat@example.com"
        refused = [
            client.get(one + "/forget"),
            _post(client, "/admin/subscribers/add", email="n@example.com", lists="weekly"),
            _post(client, one + "/edit", name="x"),
            _post(client, one + "/unsubscribe", list=""),
            _post(client, one + "/resubscribe", list="weekly", reason="r"),
            _post(client, one + "/suppress", reason="manual"),
            _post(client, one + "/forget"),
        ]
    for answer in refused:
        assert answer.status_code == 403 and "managing lists and subscribers" in answer.text
    assert len(list(find_subscribers(mailer.engine))) == 4
    assert entries(mailer, limit=5, action_prefix="subscriber.") == []
    with mailer.engine.connect() as connection:
        assert find_suppression(connection, "cat@example.com") is None


def test_every_subscriber_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    _audience(mailer)
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
        _post(admin, one + "/suppress", reason="manual", detail=HOSTILE)
        pages = [
            admin.get("/admin/subscribers"),
            admin.get("/admin/subscribers", params={"q": HOSTILE}),
            admin.get("/admin/subscribers", params={"segment": HOSTILE}),
            admin.get("/admin/subscribers", params={"list": HOSTILE}),
            admin.get(one),
            admin.get(one + "/forget"),
            _post(admin, one + "/resubscribe", list="weekly", reason=HOSTILE),
            _post(admin, one + "/unsubscribe", list=HOSTILE, reason=HOSTILE),
            _post(admin, one + "/edit", attributes=HOSTILE),
            _post(admin, "/admin/subscribers/add", email=HOSTILE, name=HOSTILE, lists="weekly"),
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
        assert _addresses(search) == [email]
        href = re.search(r'<td data-label="Address" class="address"><a href="([^"]+)"', search.text)
        assert href and href.group(1) == "/admin/subscribers/a%2F.%2Fb%3Fc%23d%25e@example.com"
        page = admin.get(href.group(1))
        assert page.status_code == 200 and "Subscriber a/./b?c#d%e@example.com" in page.text
        left = _post(admin, href.group(1) + "/unsubscribe", list="weekly", reason="")
        assert f"{email} is unsubscribed from weekly." in left.text
    [gone] = find_subscribers(mailer.engine, list_name="weekly", status="unsubscribed")
    assert gone.email == email
