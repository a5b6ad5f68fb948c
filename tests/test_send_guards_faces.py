"""The send guards through the REST API and the admin app: an issue the list got already is
a 409 (API) or a refusal with a box to tick (admin form) naming the earlier campaign, sent
anyway with ``again``; an issue marked draft is refused at ``allow_draft`` until it is set;
the same for a draft campaign sent or scheduled from its page or endpoint."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from tests.admin_helpers import add_account, form_token, logged_in
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS, Project
from tests.sending import fill_list
from tests.web_server import SIGNING_KEY, WebServer

ADMIN = "admin@example.com"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for found in serve_api(request, tmp_path_factory):
        for name in ("twice", "drafts", "later"):
            create_list(found.mailer.engine, name)
            fill_list(found.mailer.engine, 3, name)
        yield found


def count_campaigns(api: Api, list_name: str) -> int:
    with api.client() as client:
        found = client.get("/campaigns", params={"limit": 500}).json()["items"]
    return sum(1 for campaign in found if campaign["list"] == list_name)


def test_the_api_refuses_a_second_send_with_409_until_again_is_true(api: Api) -> None:
    with api.client() as client:
        first = client.post("/campaigns", json={"issue": 87, "list": "twice"})
        assert first.status_code == 201, first.text
        earlier = first.json()["id"]
        for body in ({"issue": 87, "list": "twice"}, {"issue": 87, "list": "twice", "at": "+2h"}):
            problem = assert_problem(client.post("/campaigns", json=body), 409)
            assert (
                f"issue #87 already went to the list 'twice': campaign {earlier}"
                in (problem["detail"])
            )
            assert "`again: true` sends it anyway" in problem["detail"]
        assert count_campaigns(api, "twice") == 1
        again = client.post("/campaigns", json={"issue": 87, "list": "twice", "again": True})
        assert again.status_code == 201, again.text
        assert again.json()["status"] == "sending"
    assert count_campaigns(api, "twice") == 2


def test_the_api_sends_a_draft_issue_only_with_allow_draft(api: Api) -> None:
    with api.client() as client:
        refused = client.post("/campaigns", json={"issue": 88, "list": "drafts"})
        problem = assert_problem(refused, 422)
        assert problem["errors"][0]["field"] == "allow_draft"
        assert "0088-ai-startups-draw-talent.md:8: status: draft" in problem["errors"][0]["message"]
        allowed = client.post(
            "/campaigns", json={"issue": 88, "list": "drafts", "allow_draft": True}
        )
        assert allowed.status_code == 201, allowed.text


def test_a_draft_campaign_meets_the_same_guards(api: Api) -> None:
    with api.client() as client:
        scheduled = client.post("/campaigns", json={"issue": 87, "list": "later", "at": "+2h"})
        assert scheduled.status_code == 201, scheduled.text
        saved = client.post("/campaigns", json={"issue": 87, "list": "later", "draft": True})
        assert saved.status_code == 201, saved.text
        draft = saved.json()["id"]
        problem = assert_problem(client.post(f"/campaigns/{draft}/send"), 409)
        assert f"campaign {scheduled.json()['id']} is scheduled for" in problem["detail"]
        schedule = client.post(f"/campaigns/{draft}/schedule", json={"at": "+3h"})
        assert_problem(schedule, 409)
        sent = client.post(f"/campaigns/{draft}/send", json={"again": True})
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "sending"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, ADMIN, Role.ADMIN)
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    create_list(mailer.engine, "weekly")
    fill_list(mailer.engine, 3, "weekly")
    mailer.close()
    yield web_server


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": form_token(client)} | fields)


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


def test_the_admin_form_refuses_a_second_send_and_the_box_sends_it(server: WebServer) -> None:
    with logged_in(server, ADMIN) as client:
        first = _post(client, "/admin/campaigns/new", issue="87", list="weekly", when="now")
        assert first.status_code == 303, first.text  # to the campaign's page
        earlier = first.headers["location"].rsplit("/", 1)[1]

        refused = _post(client, "/admin/campaigns/new", issue="87", list="weekly", when="now")
        assert refused.status_code == 409
        text = _text(refused)
        assert f"issue #87 already went to the list 'weekly': campaign {earlier}" in text
        assert "Tick “Send even if the list got this issue already”" in text
        assert 'type="checkbox" id="again" name="again"' in refused.text

        again = _post(
            client, "/admin/campaigns/new", issue="87", list="weekly", when="now", again="yes"
        )
        assert again.status_code == 303, again.text
        assert again.headers["location"] != first.headers["location"]

        draft = _post(client, "/admin/campaigns/new", issue="88", list="weekly", when="now")
        assert draft.status_code == 422
        assert "0088-ai-startups-draw-talent.md:8: status: draft" in _text(draft)
        assert 'name="allow_draft"' in draft.text
        allowed = _post(
            client, "/admin/campaigns/new", issue="88", list="weekly", allow_draft="yes"
        )
        assert allowed.status_code == 303, allowed.text
