"""Merge fields that behave like template values: ``{% if subscriber.first_name %}``,
``| default(...)`` and ``or`` choose per reader, though the issue is rendered once per campaign;
an unknown field or a use that cannot be honoured per reader is an error with its file:line."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailer.audience.subscribers import add_subscribers
from mailer.content import load_issue
from mailer.emulator.server import EmulatorOptions
from mailer.render.tokens import Recipient
from tests.conftest import CliResult, Project
from tests.sending import API_KEY, running_emulator, use_emulator

Cli = Callable[..., CliResult]

HEAD = """---
number: 90
title: Greetings
subject: Greetings
preheader: A greeting for each reader
date: 2026-11-23
template: digest
status: ready
---
"""
BODY = """{% if subscriber.first_name %}
Hello {{ subscriber.first_name }}, from {{ subscriber.attributes.city | default("somewhere") }}.
{% else %}
Hello reader, from {{ subscriber.attributes.city or "somewhere" }}.
{% endif %}

Dear {{ subscriber.first_name | default("there") }},
{{ "welcome back" if subscriber.attributes.city else "welcome" }}.

## The news

Something happened.

[Read more](https://www.example.com/news)
"""
HOSTILE = "<script>alert(1)</script> Eve"
ISSUE_FILE = "0090-greetings.md"


def write_issue(project: Project, body: str = BODY) -> Path:
    return project.write_issue(ISSUE_FILE, HEAD + body)


def body_line(body: str, fragment: str) -> int:
    """The file line of the body line holding ``fragment``."""
    index = next(number for number, line in enumerate(body.splitlines()) if fragment in line)
    return HEAD.count("\n") + index + 1


def parts(raw: bytes) -> tuple[str, str]:
    """The HTML and text parts of a message, white space runs made one space."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html, text = html_part.get_content(), text_part.get_content()
    return " ".join(html.split()), " ".join(text.split())


def to_address(raw: bytes) -> str:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    return str(message["To"].addresses[0].addr_spec)


def add_readers(engine: sa.Engine) -> None:
    city = {"city": "Shanghai"}
    add_subscribers(
        engine, ["ada@example.com"], "weekly", name="Ada Lin", attributes=city, confirmed=True
    )
    add_subscribers(engine, ["nameless@example.com"], "weekly", confirmed=True)
    add_subscribers(engine, ["eve@example.com"], "weekly", name=HOSTILE, confirmed=True)


def assert_greetings(copies: dict[str, bytes]) -> None:
    html, text = parts(copies["ada@example.com"])
    assert "Hello Ada, from Shanghai." in html and "Dear Ada, welcome back." in html
    assert "Hello Ada, from Shanghai." in text and "Dear Ada, welcome back." in text
    assert "Hello reader" not in html + text

    html, text = parts(copies["nameless@example.com"])
    assert "Hello reader, from somewhere." in html and "Dear there, welcome." in html
    assert "Hello reader, from somewhere." in text and "Dear there, welcome." in text
    assert "Hello ," not in html + text

    html, text = parts(copies["eve@example.com"])
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;, from somewhere." in html
    assert "<script>" not in html
    assert "Hello <script>alert(1)</script>, from somewhere." in text
    for html, text in map(parts, copies.values()):
        assert "@@" not in html + text


def test_each_reader_gets_their_branch_and_fallbacks_through_the_outbox(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    add_readers(project_engine)
    write_issue(db_project)
    result = cli("send", "90", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    folder = db_project.root / "var" / "outbox" / f"campaign-{json.loads(result.out)['id']}"
    copies = {to_address(raw): raw for raw in (p.read_bytes() for p in folder.glob("*.eml"))}
    assert_greetings(copies)


def test_each_reader_gets_their_branch_through_sendgrid_substitutions(
    db_project: Project,
    cli: Cli,
    project_engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    store = tmp_path / "store"
    with running_emulator(EmulatorOptions(store=store)) as (_, url):
        use_emulator(db_project, url)
        assert cli("lists", "create", "weekly").code == 0
        add_readers(project_engine)
        write_issue(db_project)
        result = cli("send", "90", "--list", "weekly", "--yes")
        assert result.code == 0, result.err
    copies = {to_address(raw): raw for raw in (p.read_bytes() for p in store.glob("*.eml"))}
    assert_greetings(copies)


def test_a_conditional_in_a_layout_is_decided_per_reader(project: Project) -> None:
    layout = project.templates / "digest.txt.j2"
    greeting = "{% if not subscriber.name %}Hi there{% else %}Hi {{ subscriber.name }}{% endif %}"
    layout.write_text(greeting + "\n\n" + layout.read_text(encoding="utf-8"), encoding="utf-8")
    rendered = project.renderer().render(load_issue(write_issue(project), project.templates))
    assert rendered.personalize(Recipient("a@example.com", "Ada")).text.startswith("Hi Ada\n")
    assert rendered.personalize(Recipient("b@example.com")).text.startswith("Hi there\n")


def test_elif_and_nested_conditionals_choose_per_reader(project: Project) -> None:
    body = (
        "Hello {% if issue.title == 'Other' %}A{% elif subscriber.first_name %}B "
        "{% if subscriber.attributes.city %}in {{ subscriber.attributes.city }}"
        "{% else %}nowhere{% endif %}{% else %}C{% endif %} end.\n"
    )
    rendered = project.renderer().render(load_issue(write_issue(project, body), project.templates))

    def text(name: str, city: str | None) -> str:
        attributes = {"city": city} if city else {}
        return rendered.personalize(Recipient("a@example.com", name, attributes=attributes)).text

    assert "Hello B in Xi'an end." in text("Ada Lin", "Xi'an")
    assert "Hello B nowhere end." in text("Ada Lin", None)
    assert "Hello C end." in text("", "Xi'an")


def wrap_layout_sections(project: Project) -> None:
    """The digest layout's sections inside {% if subscriber.name %}."""
    layout = project.templates / "digest.mjml.j2"
    text = layout.read_text(encoding="utf-8")
    start, end = text.index("<mj-section"), text.index("{% endblock %}")
    wrapped = "{% if subscriber.name %}\n" + text[start:end] + "{% endif %}\n"
    layout.write_text(text[:start] + wrapped + text[end:], encoding="utf-8")


def test_a_conditional_around_layout_sections_keeps_or_drops_them_whole(project: Project) -> None:
    wrap_layout_sections(project)
    rendered = project.renderer().render(load_issue(write_issue(project), project.templates))
    named = rendered.personalize(Recipient("a@example.com", "Ada")).html
    nameless = rendered.personalize(Recipient("b@example.com")).html
    assert "Something happened." in named and "Something happened." not in nameless
    for html in (named, nameless):
        assert "@@" not in html
        assert html.count("<table") == html.count("</table>")


def test_check_warns_when_a_conditional_would_not_fit_sendgrids_substitutions(
    project: Project, cli: Cli
) -> None:
    write_issue(project, BODY + "\nA long story, told at length. " * 400)
    result = cli("check", "90", "--json")
    assert result.code == 0, result
    assert not any("SendGrid" in w["message"] for w in json.loads(result.out)[0]["warnings"])
    wrap_layout_sections(project)
    result = cli("check", "90", "--json")
    assert result.code == 0, result
    [warning] = [w for w in json.loads(result.out)[0]["warnings"] if "SendGrid" in w["message"]]
    assert "SendGrid takes 10,000 a reader" in warning["message"]


@pytest.mark.parametrize("command", ["render", "check"])
def test_an_unknown_field_is_named_with_its_line(project: Project, cli: Cli, command: str) -> None:
    body = "Intro.\n\nHello {{ subscriber.nickname }}.\n"
    path = write_issue(project, body)
    result = cli(command, "90")
    assert result.code == 1, result
    where = f"{path}:{body_line(body, 'nickname')}"
    said = result.err + result.out
    assert where in said, said
    assert (
        "subscriber.nickname is not a subscriber field; fields are email, name, first_name" in said
    )
    assert "attributes.X" in said and "MergeFields" not in said


def test_an_unknown_field_in_a_layout_names_the_template_line(project: Project, cli: Cli) -> None:
    layout = project.templates / "partials" / "footer.mjml.j2"
    lines = layout.read_text(encoding="utf-8").splitlines()
    lines.insert(1, "{{ subscriber.nickname }}")
    layout.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_issue(project)
    result = cli("render", "90")
    assert result.code == 1, result
    assert f"{layout}:2:" in result.err and "subscriber.nickname is not a subscriber" in result.err


@pytest.mark.parametrize(
    "construct",
    [
        "{{ subscriber.name | upper }}",
        "{% if subscriber.name == 'Ada' %}Hi{% endif %}",
        "{% if subscriber.name and issue.title %}Hi{% endif %}",
        "{{ subscriber.name or subscriber.email }}",
    ],
)
def test_a_use_that_cannot_be_honoured_per_reader_says_what_is_allowed(
    project: Project, cli: Cli, construct: str
) -> None:
    body = f"Intro.\n\n{construct}\n"
    path = write_issue(project, body)
    result = cli("render", "90")
    assert result.code == 1, result
    assert f"{path}:{body_line(body, construct)}: body: subscriber.name" in result.err
    assert "{% if subscriber.X %}" in result.err and "default" in result.err


def test_render_to_a_stored_subscriber_uses_their_name_and_attributes(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    add_readers(project_engine)
    write_issue(db_project)

    def text_for(to: str) -> str:
        result = cli("render", "90", "--format", "text", "--to", to)
        assert result.code == 0, result.err
        return " ".join(result.out.split())

    assert "Hello Ada, from Shanghai." in text_for("ADA@example.com")
    assert "Hello Grace, from Shanghai." in text_for("Grace Hopper <ada@example.com>")
    assert "Hello reader, from somewhere." in text_for("nobody@example.com")


def test_test_send_takes_a_name_and_uses_a_stored_subscriber(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    add_readers(project_engine)
    write_issue(db_project)
    to = ["--to", "Grace Hopper <grace@example.com>", "--to", "ada@example.com"]
    result = cli("test-send", "90", *to)
    assert result.code == 0, result.err
    folder = db_project.root / "var" / "outbox" / "test"
    copies = {to_address(raw): raw for raw in (p.read_bytes() for p in folder.glob("*.eml"))}
    assert "Hello Grace, from somewhere." in parts(copies["grace@example.com"])[1]
    assert "Hello Ada, from Shanghai." in parts(copies["ada@example.com"])[1]


def test_render_to_without_a_database_creates_none(project: Project, cli: Cli) -> None:
    write_issue(project)
    result = cli("render", "90", "--format", "text", "--to", "Ada <ada@example.com>")
    assert result.code == 0, result.err
    assert "Hello Ada, from somewhere." in " ".join(result.out.split())
    assert not (project.root / "var" / "mailer.db").exists()
