"""What the admin subscribers tests share: a small audience, and reading the pages."""

from __future__ import annotations

import re

import httpx

from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers, unsubscribe
from mailer.web.admin._subscriber_pages import address_path
from tests.admin_helpers import form_token


def addresses_on(page: httpx.Response) -> list[str]:
    found = re.findall(
        r'<td data-label="Address" class="address"><a href="[^"]*">([^<]*)</a>', page.text
    )
    return [address.replace("&amp;", "&") for address in found]


def text_of(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def page_of(email: str) -> str:
    return f"/admin/subscribers/{address_path(email)}"


def make_audience(mailer: Mailer) -> None:
    create_list(mailer.engine, "weekly", title="Weekly news", double_opt_in=True)
    create_list(mailer.engine, "daily")
    add = add_subscribers
    add(mailer.engine, ["ann@example.com"], "weekly", name="Ann Lee", confirmed=True)
    add(mailer.engine, ["anna@example.org"], "daily", name="Lin Wei", attributes={"country": "CN"})
    add(mailer.engine, ["bob@example.com"], "weekly", name="Lina Bo", attributes={"country": "CN"})
    add(mailer.engine, ["cat@example.com"], "weekly", name="Cat", confirmed=True)
    unsubscribe(mailer.engine, "cat@example.com", "weekly")


def rows_of(page: httpx.Response, table: str) -> list[list[str]]:
    """The cells of each body row of the table of class ``table``, as text."""
    body = page.text.split(f'<table class="stacked {table}">')[1].split("</table>")[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    ]


def post_form(client: httpx.Client, path: str, **fields: str | list[str]) -> httpx.Response:
    token = form_token(client, "/admin/subscribers")
    return client.post(path, data={"csrf_token": token, **fields})
