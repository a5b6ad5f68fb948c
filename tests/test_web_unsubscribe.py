"""One-click unsubscribe and the preferences page on a real `mailer serve`, with the links
read from messages the outbox wrote: what a mail client and a reader do, and what an
attacker tries."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from email import policy
from email.parser import BytesParser

import httpx
import pytest
from playwright.sync_api import Browser

from tests.conftest import CliResult, Project
from tests.conftest import show_json as show
from tests.web_server import SIGNING_KEY, WebServer, new_page

Cli = Callable[..., CliResult]
READERS = {
    "ada@example.com": "Ada",
    "bo@example.com": "<script>alert(1)</script> Bo",
    "cy@example.com": "Cy",
}


@pytest.fixture
def sent(
    db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> dict[str, dict[str, str]]:
    """Issue 87 sent to the readers through the outbox; each reader's links, by address."""
    monkeypatch.setenv("MAILER_SECRET_KEY", SIGNING_KEY)
    assert cli("lists", "create", "weekly", "--title", "Tech in China Weekly", "--public").code == 0
    assert cli("lists", "create", "daily", "--title", "Daily brief", "--public").code == 0
    assert cli("lists", "create", "staff", "--title", "Staff notes").code == 0
    for email, name in READERS.items():
        added = cli("subscribers", "add", email, "-l", "weekly", "--name", name, "--confirmed")
        assert added.code == 0, added.err
    result = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err
    return _links(db_project, json.loads(result.out)["id"])


def _links(project: Project, campaign_id: int) -> dict[str, dict[str, str]]:
    found = {}
    for path in (project.root / "var" / "outbox" / f"campaign-{campaign_id}").glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text = message.get_body(("plain",)).get_content()
        unsubscribe = str(message["List-Unsubscribe"]).strip("<>")
        preferences = re.search(r"https?://\S+/preferences/[A-Za-z0-9_.-]+", text)
        assert preferences is not None
        address = str(message["To"]).rsplit("<", 1)[-1].rstrip(">")
        found[address] = {
            "unsubscribe": "/" + unsubscribe.split("/", 3)[3],
            "preferences": "/" + preferences.group(0).split("/", 3)[3],
        }
    return found


def weekly(cli: Cli, email: str) -> str | None:
    statuses = {entry["list"]: entry["status"] for entry in show(cli, email)["lists"]}
    return statuses.get("weekly")


def test_one_click_as_a_mail_client_sends_it_unsubscribes_with_a_200(
    sent: dict[str, dict[str, str]], web_server: WebServer, cli: Cli, db_project: Project
) -> None:
    form = httpx.post(
        web_server.url(sent["ada@example.com"]["unsubscribe"]),
        data={"List-Unsubscribe": "One-Click"},
    )
    multipart = httpx.post(
        web_server.url(sent["bo@example.com"]["unsubscribe"]),
        files={"List-Unsubscribe": (None, "One-Click")},
    )
    for response in (form, multipart):
        assert response.status_code == 200 and "location" not in response.headers
    assert weekly(cli, "ada@example.com") == weekly(cli, "bo@example.com") == "unsubscribed"
    again = httpx.post(
        web_server.url(sent["ada@example.com"]["unsubscribe"]),
        data={"List-Unsubscribe": "One-Click"},
    )
    assert again.status_code == 200 and weekly(cli, "ada@example.com") == "unsubscribed"
    # The next campaign skips them.
    result = cli(
        "send", "87", "--list", "weekly", "--again", "--transport", "outbox", "--yes", "--json"
    )
    assert result.code == 0, result.err
    assert set(_links(db_project, json.loads(result.out)["id"])) == {"cy@example.com"}


def test_a_get_changes_nothing_and_the_page_button_unsubscribes_with_an_undo(
    sent: dict[str, dict[str, str]], web_server: WebServer, cli: Cli
) -> None:
    link = sent["cy@example.com"]["unsubscribe"]
    with web_server.client() as client:
        page = client.get(link)
        assert page.status_code == 200 and "Tech in China Weekly" in page.text
        assert 'value="One-Click"' in page.text
        assert weekly(cli, "cy@example.com") == "confirmed"
        done = client.post(link, data={"List-Unsubscribe": "One-Click", "from": "page"})
        assert done.status_code == 200 and weekly(cli, "cy@example.com") == "unsubscribed"
        # The undo is a form of this site: without its token it is refused...
        assert httpx.post(web_server.url(link + "/undo")).status_code == 403
        assert weekly(cli, "cy@example.com") == "unsubscribed"
        # ...with the token the page gave, it subscribes them again.
        token = re.search(r'name="csrf_token" value="([^"]+)"', done.text)
        assert token is not None
        undone = client.post(link + "/undo", data={"csrf_token": token.group(1)})
        assert undone.status_code == 200 and weekly(cli, "cy@example.com") == "confirmed"


def _altered(token: str) -> list[str]:
    body, signature = token.rsplit(".", 1)
    flip = "A" if signature[5] != "A" else "B"
    return [
        token[:-1],
        token[: len(token) // 2],
        f"{body}.{signature[:5]}{flip}{signature[6:]}",
        body[:-1] + ("x" if body[-1] != "x" else "y") + "." + signature,
        token + "A",
        "x" + token,
    ]


def test_forged_cut_altered_or_wrong_purpose_links_are_refused_and_change_nothing(
    sent: dict[str, dict[str, str]], web_server: WebServer, cli: Cli
) -> None:
    ada = sent["ada@example.com"]
    token = ada["unsubscribe"].rsplit("/", 1)[1]
    preferences_token = ada["preferences"].rsplit("/", 1)[1]
    bad = [*_altered(token), preferences_token, "not-a-token", "%00", "a" * 3000]
    for candidate in bad:
        url = web_server.url(f"/unsubscribe/{candidate}")
        posted = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
        assert 400 <= posted.status_code < 500, candidate
        assert 400 <= httpx.get(url).status_code < 500, candidate
    # A genuine link with no one-click body is not an unsubscribe either.
    assert httpx.post(web_server.url(ada["unsubscribe"]), data={"x": "y"}).status_code == 400
    assert weekly(cli, "ada@example.com") == "confirmed"
    # A preferences page will not open with an unsubscribe token.
    assert httpx.get(web_server.url(f"/preferences/{token}")).status_code == 404


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_preferences_change_lists_name_and_zone_and_give_and_erase_data(
    sent: dict[str, dict[str, str]], web_server: WebServer, cli: Cli
) -> None:
    link = sent["bo@example.com"]["preferences"]
    with web_server.client() as client:
        page = client.get(link)
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Bo" in page.text
        assert "Staff notes" not in page.text  # private, and not theirs
        form = {"name": "Bo Chen", "timezone": "Asia/Shanghai", "lists": ["daily"]}
        assert client.post(link, data=form).status_code == 403  # no CSRF token
        saved = client.post(link, data={**form, "csrf_token": _csrf(page), "action": "save"})
        assert saved.status_code == 200, saved.text
        detail = show(cli, "bo@example.com")
        assert (detail["name"], detail["timezone"]) == ("Bo Chen", "Asia/Shanghai")
        statuses = {entry["list"]: entry["status"] for entry in detail["lists"]}
        assert statuses == {"daily": "confirmed", "weekly": "unsubscribed"}
        bad = client.post(link, data={**form, "timezone": "Mars/Base", "csrf_token": _csrf(page)})
        assert bad.status_code == 400 and "Mars/Base" not in show(cli, "bo@example.com").values()
        data = client.get(link + "/data")
        assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
        assert data.json()["email"] == "bo@example.com"
        assert client.get(link + "/erase").status_code == 200
        assert show(cli, "bo@example.com")["email"] == "bo@example.com"  # asking erased nothing
        erased = client.post(link + "/erase", data={"csrf_token": _csrf(page)})
        assert erased.status_code == 200
        assert cli("subscribers", "show", "bo@example.com").code == 1
        assert client.get(link).status_code == 404


@pytest.mark.browser
def test_a_reader_unsubscribes_and_changes_preferences_in_a_browser(
    sent: dict[str, dict[str, str]], web_server: WebServer, cli: Cli, chromium: Browser
) -> None:
    page = new_page(chromium, width=375)
    page.goto(web_server.url(sent["ada@example.com"]["unsubscribe"]))
    assert weekly(cli, "ada@example.com") == "confirmed"
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert weekly(cli, "ada@example.com") == "unsubscribed"
    page.get_by_role("button", name="Subscribe me again").click()
    page.get_by_role("heading", name="You are subscribed again").wait_for()
    assert weekly(cli, "ada@example.com") == "confirmed"
    page.get_by_role("link", name="Change what you receive instead").click()
    page.get_by_label("Daily brief").check()
    page.get_by_label("Name", exact=True).fill("Ada Lin")
    page.get_by_label(re.compile("Time zone")).select_option("Europe/Paris")
    page.get_by_role("button", name="Save my preferences").click()
    page.get_by_role("status").wait_for()
    detail = show(cli, "ada@example.com")
    assert (detail["name"], detail["timezone"]) == ("Ada Lin", "Europe/Paris")
    assert {entry["list"] for entry in detail["lists"] if entry["status"] == "confirmed"} == {
        "daily",
        "weekly",
    }
    page.context.close()
