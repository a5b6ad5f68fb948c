"""The admin app's campaign pages on a real ``mailer serve``: a campaign scheduled through the
form and cancelled from its page (both in the audit log); only the actions the state allows
offered, the others refused with 409; sending and scheduling need ``send``, managing needs
``manage_campaigns``; times that passed or that daylight saving skips refused at the field
with the core's words; the audience counted (segment errors at the field); the progress
fragment polled only while sending; hostile text shown escaped and hostile input a 4xx."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.accounts.users import add_user
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.services import campaigns as campaign_service
from mailer.services import sends
from tests.admin_helpers import OWNER, PASSWORD, add_account, form_token, logged_in
from tests.conftest import Project
from tests.sending import fill_list
from tests.web_server import SIGNING_KEY, WebServer

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
ADMIN = "admin@example.com"
QUIET_ADMIN = "quiet-admin@example.com"  # an admin who may not send
EDITOR = "editor@example.com"
VIEWER = "viewer@example.com"


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    found = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    yield found
    found.close()


@pytest.fixture
def server(db_project: Project, web_server: WebServer, mailer: Mailer) -> WebServer:
    for email, role in ((OWNER, Role.OWNER), (ADMIN, Role.ADMIN), (EDITOR, Role.EDITOR)):
        add_account(db_project, email, role)
    add_account(db_project, VIEWER, Role.VIEWER)
    add_user(mailer, QUIET_ADMIN, Role.ADMIN, PASSWORD, can_send=False, actor="cli")
    create_list(mailer.engine, "weekly")
    fill_list(mailer.engine, 5, "weekly")
    return web_server


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def _schedule(mailer: Mailer, at: str = "+2h") -> int:
    when = sends.send_time(mailer, at)
    assert when is not None
    plan = sends.plan(mailer, "87", "weekly", again=True)  # each call one more campaign
    return sends.schedule(mailer, plan, when).id


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": form_token(client)} | fields)


def test_schedule_through_the_form_then_cancel_it_from_its_page(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, ADMIN) as client:
        listed = client.get("/admin/campaigns")
        assert listed.status_code == 200 and "No campaign yet." in listed.text
        assert 'href="/admin/campaigns/new"' in listed.text
        form = client.get("/admin/campaigns/new")
        assert form.status_code == 200 and "#87" in form.text
        made = _post(
            client,
            "/admin/campaigns/new",
            issue="87",
            list="weekly",
            when="at",
            at="2030-01-15 09:00",
            timezone="Asia/Shanghai",
        )
        assert made.status_code == 303, _text(made)
        campaign_id = int(made.headers["location"].rsplit("/", 1)[1])

        page = client.get(f"/admin/campaigns/{campaign_id}")
        shown = _text(page)
        assert "scheduled" in shown
        assert "2030-01-15 09:00 CST · 2030-01-15T01:00Z" in shown  # local, then UTC
        for offered in ("Pause", "Reschedule", "Cancel campaign"):
            assert f">{offered}</button>" in page.text
        assert ">Resume</button>" not in page.text
        assert 'hx-trigger="every 2s"' not in page.text  # nothing to watch before it sends

        listing = _text(client.get("/admin/campaigns"))
        assert f"#{campaign_id} issue 87 to weekly" in listing and "2030-01-15T01:00Z" in listing

        cancelled = _post(client, f"/admin/campaigns/{campaign_id}/cancel")
        assert cancelled.status_code == 200
        assert f"Campaign {campaign_id} is cancelled." in cancelled.text
        assert "Nothing can be done to it now." in cancelled.text

        refused = _post(client, f"/admin/campaigns/{campaign_id}/pause")
        assert refused.status_code == 409
        assert f"campaign {campaign_id} is cancelled" in refused.text
    audited = [e for e in entries(mailer, limit=50) if e.target == f"campaign {campaign_id}"]
    assert [entry.action for entry in audited] == ["campaign.cancel", "campaign.schedule"]
    assert {entry.actor for entry in audited} == {ADMIN}


@pytest.mark.parametrize("who", [EDITOR, VIEWER, QUIET_ADMIN])
def test_without_send_nobody_sends_or_schedules(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    drafts = who != VIEWER  # those who edit issues may open the form, to save drafts
    with logged_in(server, who) as client:
        listed = client.get("/admin/campaigns")
        assert listed.status_code == 200
        assert ('href="/admin/campaigns/new"' in listed.text) is drafts
        form = client.get("/admin/campaigns/new")
        assert form.status_code == (200 if drafts else 403)
        assert ">Send or schedule</button>" not in form.text
        for when in ({"when": "now"}, {"when": "at", "at": "+1h"}):
            refused = _post(client, "/admin/campaigns/new", issue="87", list="weekly", **when)
            assert refused.status_code == 403
            assert ("sending campaigns" if drafts else "editing issues") in refused.text
    assert campaign_service.all_campaigns(mailer) == []


@pytest.mark.parametrize("who", [EDITOR, VIEWER])
def test_only_those_who_manage_campaigns_act_on_them(
    server: WebServer, mailer: Mailer, who: str
) -> None:
    campaign_id = _schedule(mailer)
    with logged_in(server, who) as client:
        page = client.get(f"/admin/campaigns/{campaign_id}")
        assert page.status_code == 200 and "Nothing can be done to it now." in page.text
        for action in ("pause", "cancel", "reschedule"):
            refused = _post(client, f"/admin/campaigns/{campaign_id}/{action}", at="+3h")
            assert refused.status_code == 403 and "managing campaigns" in refused.text
    with logged_in(server, QUIET_ADMIN) as client:  # manages campaigns without sending them
        paused = _post(client, f"/admin/campaigns/{campaign_id}/pause")
        assert paused.status_code == 200 and f"Campaign {campaign_id} is paused." in paused.text
    assert campaign_service.show(mailer, campaign_id).status == "paused"


def test_every_campaign_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    campaign_id = _schedule(mailer)
    with logged_in(server, OWNER) as client:
        client.get("/admin/campaigns")
        for path in ["/admin/campaigns/new"] + [
            f"/admin/campaigns/{campaign_id}/{action}"
            for action in ("pause", "resume", "reschedule", "cancel", "resend", "mark_sent")
        ]:
            answer = client.post(path, data={"issue": "87", "list": "weekly", "at": "+3h"})
            assert answer.status_code == 403, path
    assert campaign_service.show(mailer, campaign_id).status == "scheduled"
    assert len(campaign_service.all_campaigns(mailer)) == 1


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"at": "2020-01-01 09:00"}, "is in the past"),
        ({"at": "2030-03-10 02:30", "timezone": "America/New_York"}, "outside the gap"),
        ({"at": "2030-11-03 01:30", "timezone": "America/New_York"}, "with an offset"),
        ({"at": ""}, "give the time to send it"),
    ],
)
def test_times_that_passed_or_daylight_saving_skips_are_refused_at_the_field(
    server: WebServer, mailer: Mailer, fields: dict[str, str], words: str
) -> None:
    with logged_in(server, OWNER) as client:
        refused = _post(
            client, "/admin/campaigns/new", issue="87", list="weekly", when="at", **fields
        )
    assert refused.status_code == 422
    assert 'id="at-error"' in refused.text and words in _text(refused)
    assert campaign_service.all_campaigns(mailer) == []


def test_the_audience_is_counted_and_a_bad_segment_is_shown_at_its_field(
    server: WebServer,
) -> None:
    with logged_in(server, OWNER) as client:
        everyone = client.get("/admin/campaigns/new", params={"list": "weekly"})
        assert "5 recipients would get it now." in everyone.text
        some = client.get(
            "/admin/campaigns/new", params={"list": "weekly", "segment": 'country = "CN"'}
        )
        assert "2 recipients would get it now." in some.text
        broken = client.get("/admin/campaigns/new", params={"list": "weekly", "segment": "(("})
        assert broken.status_code == 422 and 'id="segment-error"' in broken.text
        nobody = client.get("/admin/campaigns/new", params={"list": "nosuch"})
        assert nobody.status_code == 422 and 'id="list-error"' in nobody.text


def test_progress_is_polled_while_sending_and_stops_after(
    server: WebServer, mailer: Mailer
) -> None:
    sending = sends.send_now(mailer, sends.plan(mailer, "87", "weekly", again=True))
    scheduled = _schedule(mailer)
    with logged_in(server, OWNER) as client:
        page = client.get(f"/admin/campaigns/{sending}")
        assert 'hx-trigger="every 2s"' in page.text
        assert f'href="/admin/campaigns/{sending}">Refresh</a>' in page.text  # without script
        fragment = client.get(f"/admin/campaigns/{sending}/progress")
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert 'id="progress-sent">0</span> / 5' in fragment.text
        assert "hx-refresh" not in fragment.headers
        done = client.get(f"/admin/campaigns/{scheduled}/progress")
        assert done.headers["hx-refresh"] == "true"  # the whole page again, for its actions
        assert client.get("/admin/campaigns/999999").status_code == 404


def test_hostile_text_is_shown_escaped(
    server: WebServer, mailer: Mailer, db_project: Project
) -> None:
    source = next(db_project.issues.glob("0087-*.md")).read_text(encoding="utf-8")
    hostile_issue = source.replace("number: 87", "number: 90", 1)
    hostile_issue = re.sub(r'(?m)^subject: ".*"$', f"subject: '{HOSTILE}'", hostile_issue)
    hostile_issue = re.sub(r"(?m)^title: .*$", f"title: '{HOSTILE}'", hostile_issue)
    db_project.write_issue("0090-hostile.md", hostile_issue)
    with logged_in(server, OWNER) as client:
        form = client.get("/admin/campaigns/new")
        assert HOSTILE not in form.text and "#90 &lt;script&gt;" in form.text
    with logged_in(server, OWNER) as client:
        made = _post(
            client,
            "/admin/campaigns/new",
            issue="90",
            list="weekly",
            segment='name = "<script>alert(1)</script>" or country = "CN"',
            when="at",
            at="+2h",
        )
        assert made.status_code == 303, _text(made)
        where = made.headers["location"]
        for path in (where, "/admin/campaigns"):
            page = client.get(path)
            assert HOSTILE not in page.text and "<script>alert(1)" not in page.text
            assert ESCAPED in page.text and "&lt;script&gt;alert(1)" in page.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"issue": "abc"}, "issue"),
        ({"issue": "99999999999999999999"}, "issue"),
        ({"issue": "4321"}, "issue"),
        ({"list": HOSTILE}, "list"),
        ({"segment": HOSTILE}, "segment"),
        ({"when": "at", "at": HOSTILE}, "at"),
        ({"when": "at", "at": "+1h", "timezone": HOSTILE}, "timezone"),
        ({"when": "local", "local_time": HOSTILE}, "local_time"),
        ({"when": "at", "at": "+1h\x00"}, "at"),
        ({"segment": 'name = "a\x00b"'}, "segment"),
        ({"list": "weekly\x00"}, "list"),
    ],
)
def test_hostile_input_is_refused_at_its_field_and_shown_escaped(
    server: WebServer, mailer: Mailer, fields: dict[str, str], field: str
) -> None:
    with logged_in(server, OWNER) as client:
        refused = _post(
            client, "/admin/campaigns/new", **({"issue": "87", "list": "weekly"} | fields)
        )
    assert refused.status_code == 422, _text(refused)
    assert f'id="{field}-error"' in refused.text
    assert HOSTILE not in refused.text
    assert campaign_service.all_campaigns(mailer) == []
