"""A burst of one-click unsubscribes on a real `mailer serve`: requests that arrive together
share a transaction (``[web] group_commit``), and each is still answered for itself, with
every genuine one stored and no forged one changing anything; the same without grouping."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import consent_events, memberships, subscribers
from mailer.links import UNSUBSCRIBE, link_url
from tests.conftest import CliResult, Project
from tests.web_server import SIGNING_KEY, running_server

Cli = Callable[..., CliResult]
READERS = 150
# Requests in flight at once.
BURST = 64


def _tokens(database_url: str) -> dict[str, str]:
    engine = open_database(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(subscribers.c.id, subscribers.c.email)).all()
    engine.dispose()
    key = SIGNING_KEY.encode()
    return {
        email: link_url("", key, UNSUBSCRIBE, subscriber_id, email, "weekly")
        for subscriber_id, email in rows
    }


def _post_all(base_url: str, paths: list[str]) -> list[int]:
    """POST every path at once (many connections, as mail clients do), in order of paths.
    Threads rather than asyncio: the session's browser keeps an event loop in this thread."""
    with (
        httpx.Client(base_url=base_url, timeout=60) as client,
        ThreadPoolExecutor(max_workers=BURST) as pool,
    ):
        answers = pool.map(
            lambda path: client.post(path, data={"List-Unsubscribe": "One-Click"}), paths
        )
        return [answer.status_code for answer in answers]


@pytest.mark.parametrize("group_commit", ["true", "false"])
def test_a_burst_of_one_click_posts_is_stored_whole_and_forgeries_change_nothing(
    db_project: Project, database_url: str, cli: Cli, group_commit: str
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    people = db_project.root / "people.csv"
    rows = [f"reader{n}@example.com" for n in range(READERS)]
    people.write_text("email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    imported = cli("subscribers", "import", str(people), "--list", "weekly", "--confirmed")
    assert imported.code == 0, imported.err
    links = _tokens(database_url)
    leaving = rows[: READERS // 2]
    staying = rows[READERS // 2 :]
    genuine = [links[email] for email in leaving]
    # Each leaver's link twice (mail clients repeat), and a forged link for each stayer:
    # their own link with one character changed.
    forged = [links[email][:-1] + ("A" if links[email][-1] != "A" else "B") for email in staying]
    paths = genuine + genuine[:20] + forged
    env = {"MAILER_WEB_GROUP_COMMIT": group_commit}
    with running_server(db_project, env) as server:
        answers = _post_all(server.base_url, paths)
    assert answers[: len(genuine) + 20] == [200] * (len(genuine) + 20)
    assert answers[len(genuine) + 20 :] == [404] * len(forged)
    engine = open_database(database_url)
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(
                sa.select(subscribers.c.email, memberships.c.status).join(
                    memberships, memberships.c.subscriber_id == subscribers.c.id
                )
            ).all()
        )
        recorded = connection.execute(
            sa.select(consent_events.c.subscriber_id, consent_events.c.action)
        ).all()
    engine.dispose()
    assert {email for email, status in statuses.items() if status == "unsubscribed"} == set(leaving)
    assert {statuses[email] for email in staying} == {"confirmed"}
    # One consent record per person who left, however many times their link was posted.
    assert len(recorded) == len(leaving) and {action for _, action in recorded} == {"unsubscribe"}
