"""Shared by the web signup tests: lists on a served project, the tokens pages carry, and the
mail the server sent (after its answer, so it is waited for)."""

from __future__ import annotations

import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import httpx

from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import show_subscriber
from tests.conftest import Project
from tests.web_server import SIGNING_KEY, WebServer

MAIL_WAIT_SECONDS = 20.0


def project_mailer(project: Project) -> Mailer:
    return Mailer(project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})


def make_lists(project: Project) -> None:
    """weekly: public, single opt-in; daily: public, double opt-in; staff: private."""
    app = project_mailer(project)
    try:
        create_list(app.engine, "weekly", title="Weekly", public=True)
        create_list(app.engine, "daily", title="Daily <Briefing>", double_opt_in=True, public=True)
        create_list(app.engine, "staff", title="Staff only")
    finally:
        app.close()


def statuses(project: Project, email: str) -> dict[str, str]:
    app = project_mailer(project)
    try:
        return {m.list_name: m.status for m in show_subscriber(app.engine, email).memberships}
    finally:
        app.close()


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found[1]


def signup_form(client: httpx.Client, email: str, *lists: str, **fields: str) -> httpx.Response:
    """Fill the form in as a person would: open it, then send it with its token."""
    token = form_token(client.get("/signup"))
    data: dict[str, str | list[str]] = {"csrf_token": token, "email": email, "list": list(lists)}
    return client.post("/signup", data={**data, **fields})


def sent_mail(project: Project, count: int) -> list[EmailMessage]:
    """The first ``count`` messages the server's outbox holds, once it holds them."""
    folder = project.settings().transport.outbox.dir / "test"
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        paths = sorted(folder.glob("*.eml")) if folder.is_dir() else []
        if len(paths) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # the server sends after it has answered
    assert len(paths) >= count, f"{len(paths)} messages in the outbox, not {count}"
    messages = []
    for path in paths:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def confirm_link(server: WebServer, message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.findall(re.escape(server.base_url) + r"/confirm/[A-Za-z0-9_.-]+", body.get_content())
    assert len(found) == 1, found
    link: str = found[0]
    return link
