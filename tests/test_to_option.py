"""``--to`` on ``mailer render`` and ``mailer test-send``: one reader, EMAIL or 'Name <EMAIL>',
held to the same address rules as an import or ``subscribers add`` (a local part of at most
64 octets among them). Anything else (a list of addresses, a group, text after the address)
is a one-line error naming ``--to``, exit 1, and nothing is written or sent."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, Project
from tests.mail_checks import assert_one_reader

Cli = Callable[..., CliResult]

LONG_ASCII = "a" * 65 + "@example.com"
LONG_UTF8 = "ü" * 33 + "@example.com"  # 33 characters, 66 octets
LONGEST_UTF8 = "é" * 32 + "@example.com"  # 64 octets: allowed

NOT_ONE_ADDRESS = [
    "ada@example.com, lin@example.com",
    "Ada <ada@example.com>, Lin <lin@example.com>",
    "ada@example.com <lin@example.com>",
    "team: ada@example.com;",
    "team: ada@example.com, lin@example.com;",
    "Ada <ada@example.com> and friends",
    "ada@example.com junk",
    "ada@example.com,",
    "ada@example.com>",
    "<<ada@example.com>>",
    "Ada, Lin <ada@example.com>",
    "",
]


def assert_one_line_error(result: CliResult, *words: str) -> None:
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for word in ("--to", *words):
        assert word in lines[0], lines[0]


def outbox_copies(project: Project) -> list[Path]:
    return sorted((project.root / "var" / "outbox" / "test").glob("*.eml"))


@pytest.mark.parametrize("to", [LONG_ASCII, LONG_UTF8, f"Ada <{LONG_ASCII}>"])
def test_render_refuses_a_local_part_over_64_octets(
    project: Project, cli: Cli, tmp_path: Path, to: str
) -> None:
    out = tmp_path / "reader.eml"
    result = cli("render", "87", "--format", "eml", "--to", to, "-o", str(out))
    assert_one_line_error(result, "64")
    assert not out.exists()


@pytest.mark.parametrize("to", [LONG_ASCII, LONG_UTF8])
def test_test_send_refuses_a_local_part_over_64_octets(project: Project, cli: Cli, to: str) -> None:
    result = cli("test-send", "87", "--to", "editor@example.com", "--to", to)
    assert_one_line_error(result, "64", repr(to))
    assert outbox_copies(project) == []


def test_the_longest_local_part_is_rendered_and_test_sent(
    project: Project, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "reader.eml"
    result = cli("render", "87", "--format", "eml", "--to", LONGEST_UTF8, "-o", str(out))
    assert result.code == 0, result.err
    assert_one_reader(out.read_bytes(), LONGEST_UTF8, "")
    assert cli("test-send", "87", "--to", LONGEST_UTF8).code == 0
    assert len(outbox_copies(project)) == 1


@pytest.mark.parametrize("to", NOT_ONE_ADDRESS)
def test_render_refuses_a_to_that_is_not_one_address(
    project: Project, cli: Cli, tmp_path: Path, to: str
) -> None:
    out = tmp_path / "reader.eml"
    result = cli("render", "87", "--format", "eml", "--to", to, "-o", str(out))
    assert_one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize(
    ("to", "why"),
    [
        ("ada@example.com, lin@example.com", "2 addresses"),
        ("Ada <ada@example.com>, Lin <lin@example.com>, x@example.org", "3 addresses"),
        ("team: ada@example.com;", "group"),
        ("Ada <ada@example.com> and friends", "after the address"),
    ],
)
def test_the_message_says_what_is_wrong_with_the_to(
    project: Project, cli: Cli, to: str, why: str
) -> None:
    assert_one_line_error(cli("render", "87", "--to", to), why)


@pytest.mark.parametrize("to", [NOT_ONE_ADDRESS[0], NOT_ONE_ADDRESS[3], LONG_ASCII])
def test_preview_refuses_the_to_before_serving(project: Project, cli: Cli, to: str) -> None:
    # A port already taken: were the value taken, the server would fail to start, not hang.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = cli("preview", "87", "--host", "127.0.0.1", "--port", port, "--to", to)
    assert_one_line_error(result)


@pytest.mark.parametrize("to", NOT_ONE_ADDRESS[:5])
def test_test_send_refuses_a_to_that_is_not_one_address(
    project: Project, cli: Cli, to: str
) -> None:
    result = cli("test-send", "87", "--to", "editor@example.com", "--to", to)
    assert_one_line_error(result)
    assert outbox_copies(project) == []


@pytest.mark.parametrize(
    ("to", "email", "name"),
    [
        ("Ada Lin <ada@example.com>", "ada@example.com", "Ada Lin"),
        ("  Ada Lin   <ada@example.com> ", "ada@example.com", "Ada Lin"),
        ("<ada@example.com>", "ada@example.com", ""),
        ("ada@example.com", "ada@example.com", ""),
        ('"Lin, Ada" <ada@example.com>', "ada@example.com", "Lin, Ada"),
        ("Ada J. Lovelace <ada@example.com>", "ada@example.com", "Ada J. Lovelace"),
        ("Zoë Müller <zoe@straße.de>", "zoe@xn--strae-oqa.de", "Zoë Müller"),
        ("Ada <ADA@Example.COM>", "ADA@example.com", "Ada"),
    ],
)
def test_render_takes_one_address_with_or_without_a_name(
    project: Project, cli: Cli, tmp_path: Path, to: str, email: str, name: str
) -> None:
    out = tmp_path / "reader.eml"
    result = cli("render", "87", "--format", "eml", "--to", to, "-o", str(out))
    assert result.code == 0, result.err
    assert_one_reader(out.read_bytes(), email, name)


def test_test_send_addresses_each_reader_once_with_their_name(project: Project, cli: Cli) -> None:
    readers = ["Ada Lin <ada@example.com>", "ADA@EXAMPLE.COM", "lin@bücher.de"]
    result = cli("test-send", "87", *[word for to in readers for word in ("--to", to)])
    assert result.code == 0, result.err
    assert "Sent 2 test copies" in result.out
    copies = [path.read_bytes() for path in outbox_copies(project)]
    assert len(copies) == 2
    wire = ["ada@example.com", "lin@xn--bcher-kva.de"]
    by_address = {a: raw for raw in copies for a in wire if f"<{a}>".encode() in raw}
    assert_one_reader(by_address["ada@example.com"], "ada@example.com", "Ada Lin")
    assert_one_reader(by_address["lin@xn--bcher-kva.de"], "lin@xn--bcher-kva.de", "")
