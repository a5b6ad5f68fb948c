"""A burst of signups to a double opt-in list on a real `mailer serve`: with
``[web] group_commit`` the confirmation mails of signups that arrive together go out in
shared sends, and still every person gets exactly one mail, with their own working link;
the same with each mail sent alone."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import Project
from tests.web_server import running_server
from tests.web_signup_helpers import make_lists, sent_mail, statuses

PEOPLE = 40


def _sign_up_all(base_url: str, emails: list[str]) -> list[int]:
    """Every signup at once, each from a client address of its own (the server trusts
    loopback's X-Forwarded-For), as a burst from many readers would be. Threads rather than
    asyncio: the session's browser keeps an event loop in this thread."""

    def sign_up(numbered: tuple[int, str]) -> int:
        number, email = numbered
        answer = client.post(
            "/api/signup",
            json={"email": email, "name": "", "lists": ["daily"]},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
        return answer.status_code

    with (
        httpx.Client(base_url=base_url, timeout=60) as client,
        ThreadPoolExecutor(max_workers=len(emails)) as pool,
    ):
        return list(pool.map(sign_up, enumerate(emails)))


@pytest.mark.parametrize("group_commit", ["true", "false"])
def test_every_signup_of_a_burst_gets_one_mail_with_its_own_link(
    db_project: Project, group_commit: str
) -> None:
    make_lists(db_project)
    emails = [f"reader{n}@example.com" for n in range(PEOPLE)]
    env = {
        "MAILER_WEB_GROUP_COMMIT": group_commit,
        "MAILER_WEB_FORWARDED_ALLOW_IPS": '["127.0.0.1"]',
    }
    with running_server(db_project, env) as server:
        assert _sign_up_all(server.base_url, emails) == [200] * PEOPLE
        messages = sent_mail(db_project, PEOPLE)
        assert sorted(str(m["To"]) for m in messages) == sorted(emails)
        # Each mail's link confirms its own reader, nobody else.
        for message in messages[:3]:
            body = message.get_body(("plain",))
            assert body is not None
            [link] = re.findall(re.escape(server.base_url) + r"/confirm/\S+", body.get_content())
            with server.client() as reader:
                page = reader.get(link)
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert token is not None
                assert reader.post(link, data={"csrf_token": token[1]}).status_code == 200
            assert statuses(db_project, str(message["To"])) == {"daily": "confirmed"}
    waiting = [e for e in emails if statuses(db_project, e) == {"daily": "unconfirmed"}]
    assert len(waiting) == PEOPLE - 3
