"""Campaign drafts in the admin app on a real ``mailer serve``: an editor who may not send saves
a draft from the new campaign's form, edits it (the form filled in with it) and deletes it,
and is refused sending or scheduling it (403 naming the permission); one who may send sends a
draft now or schedules it, and a draft no longer one is a 409; every draft form needs its
CSRF token; hostile text is shown escaped on every page that shows it."""

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
from tests.admin_helpers import ESCAPED, HOSTILE, OWNER, PASSWORD, form_token, logged_in
from tests.conftest import Project
from tests.sending import fill_list, ledger
from tests.web_server import SIGNING_KEY, WebServer

ADMIN = "admin@example.com"
EDITOR = "editor@example.com"  # an editor who may not send


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    found = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    yield found
    found.close()


@pytest.fixture
def server(db_project: Project, web_server: WebServer, mailer: Mailer) -> WebServer:
    for email, role in ((OWNER, Role.OWNER), (ADMIN, Role.ADMIN), (EDITOR, Role.EDITOR)):
        add_user(mailer, email, role, PASSWORD, actor="cli")
    create_list(mailer.engine, "weekly")
    fill_list(mailer.engine, 5, "weekly")  # readers 1 and 3 are in CN
    return web_server


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": form_token(client)} | fields)


def _save_draft(client: httpx.Client, **fields: str) -> int:
    asked = {"issue": "87", "list": "weekly", "do": "draft"} | fields
    made = _post(client, "/admin/campaigns/new", **asked)
    assert made.status_code == 303, _text(made)
    return int(made.headers["location"].rsplit("/", 1)[1])


def _buttons(page: httpx.Response) -> set[str]:
    return set(re.findall(r">([^<>]+)</(?:button|a)>", page.text))


def test_an_editor_drafts_edits_and_deletes_but_may_not_send(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, EDITOR) as client:
        listed = client.get("/admin/campaigns")
        assert 'href="/admin/campaigns/new"' in listed.text
        form = client.get("/admin/campaigns/new")
        assert form.status_code == 200
        assert ">Save as draft</button>" in form.text and "Send or schedule" not in form.text
        draft_id = _save_draft(
            client, segment='country = "CN"', when="at", at="2030-01-15 09:00", timezone="UTC"
        )
        page = client.get(f"/admin/campaigns/{draft_id}")
        shown = _text(page)
        assert "draft" in shown and "Planned for" in shown and "2030-01-15T09:00Z" in shown
        assert "2 recipients would get it now" in shown
        assert {"Edit", "Delete draft"} <= _buttons(page)
        assert not {"Send now", "Schedule"} & _buttons(page)

        for action in ("send", "schedule"):
            refused = _post(client, f"/admin/campaigns/{draft_id}/{action}", at="+1h")
            assert refused.status_code == 403 and "sending campaigns" in refused.text
        assert campaign_service.show(mailer, draft_id).status == "draft"

        editing = client.get(f"/admin/campaigns/{draft_id}/edit")
        assert editing.status_code == 200 and "Edit draft #" in editing.text
        assert 'value="2030-01-15 09:00"' in editing.text
        assert 'value="country = &#34;CN&#34;"' in editing.text
        assert f'action="/admin/campaigns/{draft_id}/edit"' in editing.text
        edited = _post(
            client, f"/admin/campaigns/{draft_id}/edit", issue="87", list="weekly", when="now"
        )
        assert edited.status_code == 303, _text(edited)
        again = _text(client.get(f"/admin/campaigns/{draft_id}"))
        assert "5 recipients would get it now" in again and "Planned for" not in again
        assert ledger(mailer.engine, draft_id) == {}  # counted, never taken

        deleted = _post(client, f"/admin/campaigns/{draft_id}/delete")
        assert deleted.status_code == 303
        assert client.get(f"/admin/campaigns/{draft_id}").status_code == 404
    assert campaign_service.all_campaigns(mailer) == []
    audited = [e.action for e in entries(mailer, limit=50) if e.target == f"campaign {draft_id}"]
    assert audited == ["campaign.draft_delete", "campaign.draft_edit", "campaign.draft"]


def test_one_who_may_send_sends_a_draft_or_schedules_it(server: WebServer, mailer: Mailer) -> None:
    with logged_in(server, EDITOR) as editor:
        sent_id = _save_draft(editor)
        later_id = _save_draft(editor, when="local", local_time="08:00")
    with logged_in(server, ADMIN) as client:
        page = client.get(f"/admin/campaigns/{sent_id}")
        assert {"Edit", "Send now", "Schedule", "Delete draft"} <= _buttons(page)
        sent = _post(client, f"/admin/campaigns/{sent_id}/send")
        assert sent.status_code == 200, _text(sent)
        assert f"Campaign {sent_id} is sending" in sent.text
        assert sorted(ledger(mailer.engine, sent_id).values()) == ["pending"] * 5
        again = _post(client, f"/admin/campaigns/{sent_id}/send")
        assert again.status_code == 409
        assert "is sending; only a draft campaign can be sent" in again.text
        assert client.get(f"/admin/campaigns/{sent_id}/edit").status_code == 409

        # again: the first draft's campaign of issue 87 to weekly is sending.
        passed = _post(
            client, f"/admin/campaigns/{later_id}/schedule", at="2020-01-01 09:00", again="yes"
        )
        assert passed.status_code == 422 and "is in the past" in passed.text
        scheduled = _post(
            client,
            f"/admin/campaigns/{later_id}/schedule",
            at="2030-01-15 09:00",
            timezone="Asia/Shanghai",
            again="yes",
        )
        assert scheduled.status_code == 200, _text(scheduled)
        shown = _text(scheduled)
        assert f"Campaign {later_id} is scheduled." in shown
        assert "2030-01-15 09:00 CST · 2030-01-15T01:00Z" in shown
        assert "each subscriber at 08:00 their time" not in shown  # the time given replaced it
    after = campaign_service.show(mailer, later_id)
    assert (after.status, after.zone, after.local_time) == ("scheduled", "Asia/Shanghai", None)
    audited = {(e.action, e.actor) for e in entries(mailer, limit=50)}
    assert {("campaign.send", ADMIN), ("campaign.schedule", ADMIN)} <= audited


def test_every_draft_form_needs_its_csrf_token(server: WebServer, mailer: Mailer) -> None:
    with logged_in(server, EDITOR) as editor:
        draft_id = _save_draft(editor)
    with logged_in(server, OWNER) as client:
        client.get("/admin/campaigns")
        fields = {"issue": "87", "list": "weekly", "do": "draft", "at": "+3h"}
        for action in ("new", f"{draft_id}/edit", f"{draft_id}/send", f"{draft_id}/schedule"):
            answer = client.post(f"/admin/campaigns/{action}", data=fields)
            assert answer.status_code == 403, action
        assert client.post(f"/admin/campaigns/{draft_id}/delete").status_code == 403
    assert [found.status for found in campaign_service.all_campaigns(mailer)] == ["draft"]


def test_hostile_text_in_a_draft_is_shown_escaped(
    server: WebServer, mailer: Mailer, db_project: Project
) -> None:
    source = next(db_project.issues.glob("0087-*.md")).read_text(encoding="utf-8")
    hostile_issue = source.replace("number: 87", "number: 90", 1)
    hostile_issue = re.sub(r'(?m)^subject: ".*"$', f"subject: '{HOSTILE}'", hostile_issue)
    hostile_issue = re.sub(r"(?m)^title: .*$", f"title: '{HOSTILE}'", hostile_issue)
    db_project.write_issue("0090-hostile.md", hostile_issue)
    segment = f"name = '{HOSTILE}' or country = \"CN\""
    with logged_in(server, EDITOR) as client:
        draft_id = _save_draft(client, issue="90", segment=segment)
        for path in (f"/admin/campaigns/{draft_id}", f"/admin/campaigns/{draft_id}/edit"):
            page = client.get(path)
            assert page.status_code == 200
            assert HOSTILE not in page.text and ESCAPED in page.text, path
        for fields in ({"list": HOSTILE}, {"when": "at", "at": HOSTILE}):
            refused = _post(
                client,
                f"/admin/campaigns/{draft_id}/edit",
                **({"issue": "90", "list": "weekly"} | fields),
            )
            assert refused.status_code == 422, _text(refused)
            assert HOSTILE not in refused.text and "&lt;script&gt;" in refused.text
        nul = _post(client, f"/admin/campaigns/{draft_id}/edit", issue="90", list="week\x00ly")
        assert nul.status_code == 422 and "control characters" in nul.text
    assert campaign_service.show(mailer, draft_id).segment == segment  # nothing lost
