"""The SendGrid emulator refuses what SendGrid refuses, in SendGrid's error shape, over HTTP."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mailer.emulator.mail_send_rules import check_mail_send
from mailer.emulator.server import EmulatorOptions, SendGridEmulator
from tests.sending import API_KEY, configure, received, running_emulator

NOW = 1_800_000_000.0


def valid() -> dict[str, Any]:
    return {
        "personalizations": [
            {"to": [{"email": "ada@example.com", "name": "Ada"}],
             "substitutions": {"@@h.name@@": "Ada"}, "custom_args": {"mailer_campaign": "1"},
             "headers": {"List-Unsubscribe": "<https://n.example.com/u/x>"}},
            {"to": [{"email": "bo@example.net"}]},
        ],
        "from": {"email": "news@example.com", "name": "News"},
        "subject": "Hello",
        "content": [
            {"type": "text/plain", "value": "Hi @@h.name@@"},
            {"type": "text/html", "value": "<p>Hi @@h.name@@</p>"},
        ],
        "categories": ["weekly"],
        "asm": {"group_id": 7},
        "mail_settings": {"sandbox_mode": {"enable": False}},
    }  # fmt: skip


def fields(body: dict[str, Any]) -> list[str | None]:
    return [problem.field for problem in check_mail_send(body, NOW)]


def test_a_valid_request_has_no_problems() -> None:
    assert check_mail_send(valid(), NOW) == []


def with_change(path: str, value: Any) -> dict[str, Any]:
    body = valid()
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("personalizations", [], "personalizations"),
        ("from", KeyError, "from"),
        ("from.email", "not-an-address", "from.email"),
        ("personalizations.0.to", [], "personalizations.0.to"),
        ("personalizations.1.to.0.email", "bo@", "personalizations.1.to.0.email"),
        ("personalizations.1.to.0.email", "ADA@example.com", "personalizations.1.to.0.email"),
        ("subject", KeyError, "personalizations.0.subject"),
        ("content.0.value", "", "content.0.value"),
        ("content", [{"type": "text/html", "value": "x"}, {"type": "text/plain", "value": "y"}],
         "content"),
        ("personalizations.0.substitutions", {"age": 7}, "personalizations.0.substitutions.age"),
        ("personalizations.0.substitutions", {"k": "v" * 10_000},
         "personalizations.0.substitutions"),
        ("personalizations.0.custom_args", {"id": 3}, "personalizations.0.custom_args.id"),
        ("personalizations.0.headers", {"Subject": "x"}, "personalizations.0.headers.Subject"),
        ("personalizations.0.headers", {"X-Count": 1}, "personalizations.0.headers.X-Count"),
        ("categories", [f"c{n}" for n in range(11)], "categories"),
        ("categories", ["a", "a"], "categories"),
        ("asm", {"group_id": "7"}, "asm.group_id"),
        ("send_at", int(NOW) + 73 * 3600, "send_at"),
        ("mail_settings", {"sandbox_mode": {"enable": "yes"}}, "mail_settings.sandbox_mode.enable"),
    ],
)  # fmt: skip
def test_each_rule_names_the_field(path: str, value: Any, field: str) -> None:
    assert field in fields(with_change(path, value))


def test_limits_on_personalizations_and_recipients() -> None:
    body = valid()
    body["personalizations"] = [{"to": [{"email": f"r{n}@example.com"}]} for n in range(1001)]
    assert fields(body) == ["personalizations"]
    body["personalizations"] = [
        {"to": [{"email": f"r{n}@example.com"}], "cc": [{"email": f"c{n}@example.com"}]}
        for n in range(501)
    ]
    assert "personalizations" in fields(body)
    body["personalizations"] = body["personalizations"][:500]
    assert fields(body) == []


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator(EmulatorOptions(api_keys=frozenset({API_KEY}))) as pair:
        yield pair


def post(
    url: str, body: bytes, key: str = API_KEY, **headers: str
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{url}/v3/mail/send", data=body, method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, dict(error.headers), json.loads(raw) if raw else None


def test_http_answers(emulator: tuple[SendGridEmulator, str]) -> None:
    _, url = emulator
    body = json.dumps(valid()).encode()
    status, headers, _ = post(url, body)
    assert status == 202 and len(headers["X-Message-Id"]) >= 16
    assert [message["to"] for message in received(url)] == ["ada@example.com", "bo@example.net"]
    assert post(url, body, key="SG.other")[0] == 401
    bad = with_change("from", KeyError)
    status, _, errors = post(url, json.dumps(bad).encode())
    assert status == 400 and errors["errors"][0]["field"] == "from"
    assert post(url, b"{not json")[0] == 400
    assert post(url, gzip.compress(body), **{"Content-Encoding": "gzip"})[0] == 202
    sandboxed = with_change("mail_settings", {"sandbox_mode": {"enable": True}})
    assert post(url, json.dumps(sandboxed).encode())[0] == 200
    assert len(received(url)) == 4  # sandboxed mail is validated, not delivered


def test_oversize_bodies_and_rate_limits(emulator: tuple[SendGridEmulator, str]) -> None:
    server, url = emulator
    huge = b'{"x": "' + b"a" * (30 * 1024 * 1024) + b'"}'
    assert post(url, huge)[0] == 413
    configure(server, rate_limit=1)
    body = json.dumps(valid()).encode()
    answers = [post(url, body) for _ in range(3)]
    limited = [headers for status, headers, _ in answers if status == 429]
    assert limited and all(int(h["X-RateLimit-Reset"]) > NOW - 10**9 for h in limited)
    assert limited[0]["X-RateLimit-Limit"] == "1" and limited[0]["X-RateLimit-Remaining"] == "0"
