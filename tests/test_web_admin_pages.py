"""The admin app's pages on a real ``mailer serve``: the dashboard's campaigns, sends to come,
what needs attention and the lists; the users page adding and changing users; the audit log
newest first, paged and filtered; hostile text stored by others shown escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from mailer.accounts.audit import record
from mailer.accounts.roles import Role
from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.db.engine import write_transaction
from mailer.db.tables import deliveries
from mailer.scheduling.worker_presence import WorkerPresence
from mailer.services import campaigns as campaign_service
from mailer.services import sends
from tests.admin_helpers import OWNER, PASSWORD, add_account, form_token, logged_in
from tests.conftest import Project
from tests.report_fixtures import Sent, posted_events
from tests.web_server import SIGNING_KEY

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def owner(sent: Sent, db_project: Project) -> Iterator[httpx.Client]:
    add_account(db_project, OWNER, Role.OWNER)
    with logged_in(sent.server, OWNER) as client:
        yield client


def _text(page: httpx.Response) -> str:
    """The page's text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def test_the_dashboard_shows_campaigns_sends_to_come_attention_and_lists(
    sent: Sent, db_project: Project, owner: httpx.Client
) -> None:
    WorkerPresence(sent.engine, "worker-host:1").announce()  # a worker runs: nothing to say
    before = owner.get("/admin")
    assert before.status_code == 200
    assert f"#{sent.campaign} issue 87 to weekly" in _text(before)
    assert "5 / 5" in _text(before) and "no events yet" in before.text
    assert "Nothing needs attention." in before.text and "Nothing is scheduled." in before.text

    sent.post(posted_events(sent))
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        plan = sends.plan(mailer, "87", "weekly", again=True)  # 87 went to weekly above
        in_two_hours, in_three_hours = (sends.send_time(mailer, at) for at in ("+2h", "+3h"))
        assert in_two_hours is not None and in_three_hours is not None
        later = sends.schedule(mailer, plan, in_two_hours)
        held = sends.schedule(mailer, plan, in_three_hours)
        campaign_service.pause(mailer, held.id)
    finally:
        mailer.close()
    with write_transaction(sent.engine) as connection:
        connection.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.campaign_id == sent.campaign,
                deliveries.c.subscriber_id == sent.ids["eve"],
            )
            .values(status="in_doubt")
        )
    create_list(sent.engine, "hostile", title=HOSTILE)

    page = owner.get("/admin")
    text = _text(page)
    # Delivered to four, opened by three (machine opens too), clicked by two.
    assert "4 · 3 · 2" in text
    attention = text.split("Needs attention")[1].split("Recent campaigns")[0]
    assert f"#{held.id} issue 87 to weekly" in attention and "paused" in attention
    assert f"#{sent.campaign} issue 87 to weekly" in attention
    assert "1 recipients in doubt" in attention
    upcoming = text.split("Upcoming sends")[1].split("Lists")[0]
    assert f"#{later.id} issue 87 to weekly" in upcoming
    assert f"#{held.id} issue" not in upcoming
    lists = text.split("Lists")[-1]
    assert "weekly" in lists and "hostile" in lists
    assert HOSTILE not in page.text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        in page.text
    )


def test_adding_a_user_and_changing_their_role(sent: Sent, owner: httpx.Client) -> None:
    token = form_token(owner, "/admin/users")
    added = owner.post(
        "/admin/users/add",
        data={
            "csrf_token": token,
            "email": "Ed@Example.com",
            "role": "editor",
            "password": "fourteen chars!",
        },
    )
    assert added.status_code == 200 and "Ed@Example.com is added." in added.text
    with logged_in(sent.server, "ed@example.com", "fourteen chars!") as editor:
        assert editor.get("/admin").status_code == 200
        assert editor.get("/admin/users").status_code == 403

        changed = owner.post(
            "/admin/users/role",
            data={"csrf_token": token, "email": "ed@example.com", "role": "owner"},
        )
        assert changed.status_code == 200 and "is now owner" in changed.text
        assert editor.get("/admin/users").status_code == 200  # from the next request on

    sends = owner.post(
        "/admin/users/role",
        data={"csrf_token": token, "email": "ed@example.com", "role": "editor", "can_send": "1"},
    )
    assert sends.status_code == 200
    row = re.search(
        r'<tr id="user-\d+">\s*<td[^>]*>ed@example.com.*?</tr>', sends.text, re.S | re.I
    )
    assert row and 'name="can_send" value="1" checked' in row.group(0)
    assert "<option selected>editor</option>" in row.group(0)

    refused = owner.post(
        "/admin/users/add",
        data={
            "csrf_token": token,
            "email": "weak@example.com",
            "role": "viewer",
            "password": "short",
        },
    )
    assert refused.status_code == 400 and "at least 12 characters" in refused.text
    bad = owner.post(
        "/admin/users/add",
        data={"csrf_token": token, "email": HOSTILE, "role": "viewer", "password": PASSWORD},
    )
    assert bad.status_code == 400 and HOSTILE not in bad.text
    demote = owner.post(
        "/admin/users/role", data={"csrf_token": token, "email": OWNER, "role": "viewer"}
    )
    assert demote.status_code == 400  # ed is an editor again: this is the only owner
    assert "only owner" in demote.text
    assert owner.get("/admin/users").status_code == 200


def test_admin_pages_may_run_this_sites_script_and_nothing_else(owner: httpx.Client) -> None:
    for path in ("/admin", "/admin/users", "/admin/audit", "/admin/login"):
        answer = owner.get(path)
        directives = dict(
            part.strip().split(" ", 1)
            for part in answer.headers["content-security-policy"].split(";")
        )
        assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
        assert directives["style-src"] == "'self'" and directives["default-src"] == "'none'"
        assert "unsafe" not in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert '"includeIndicatorStyles":false' in answer.text
    assert "script-src" not in owner.get("/").headers["content-security-policy"]


def test_the_audit_log_is_newest_first_paged_filtered_and_escaped(
    sent: Sent, owner: httpx.Client
) -> None:
    with write_transaction(sent.engine) as connection:
        for number in range(60):
            record(
                connection, "cli", "test.step", f"step {number}", {"n": number}, datetime.now(UTC)
            )
        record(connection, HOSTILE, "list.create", HOSTILE, {"title": HOSTILE}, datetime.now(UTC))
    first = owner.get("/admin/audit")
    assert first.status_code == 200
    assert HOSTILE not in first.text and "&lt;script&gt;" in first.text
    steps = re.findall(r"step (\d+)", first.text)
    assert steps[0] == "59" and steps == sorted(steps, key=int, reverse=True)
    older = re.search(r'href="(/admin/audit\?before=\d+)"', first.text)
    assert older
    second = owner.get(older.group(1).replace("&amp;", "&"))
    second_steps = re.findall(r"step (\d+)", second.text)
    assert int(second_steps[0]) == int(steps[-1]) - 1
    assert "0" in second_steps and not set(second_steps) & set(steps)

    filtered = owner.get("/admin/audit", params={"action": "user."})
    assert "step" not in _text(filtered)
    assert "user.add" in filtered.text and "user.login" in filtered.text
