"""Properties of reading a ``--to`` value (render, preview, test-send): any text is either
one reader or a one-line error naming ``--to``; what is taken is exactly one address, one the
project would store, and the To header rendered for it holds that address and no other; a
list of addresses or a group is never taken."""

from __future__ import annotations

import shutil
from email import policy
from email.utils import formataddr
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.app import Mailer
from mailer.audience.addresses import normalize_address
from mailer.cli.errors import command_line_message
from mailer.config import Settings
from mailer.errors import MailerError
from mailer.render.formats import OutputFormat
from mailer.render.output import parse_reader, render_output, render_reference
from mailer.render.pipeline import RenderedEmail, Renderer
from mailer.render.wire_address import wire_address
from tests.conftest import POSTAL_ADDRESS, REPO, Project
from tests.mail_checks import parse

ADDRESSES = [
    "ada@example.com",
    "lin.wei+news@mail.example.cn",
    "zoe@straße.de",
    "王芳@例子.中国",
    "O'Neil@example.org",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "nobody@",
    "@example.com",
    '"quoted"@example.com',
    "ada@[127.0.0.1]",
]
PIECES = [
    *ADDRESSES,
    "Ada",
    "Lin Wei",
    "Zoë",
    " ",
    "\t",
    "\r\n",
    ",",
    ";",
    ":",
    "<",
    ">",
    '"',
    "\\",
    "(",
    ")",
    "[",
    "]",
    "@",
    ".",
    "=?utf-8?q?a=2C_b=40evil=2Eexample?=",
    "team:",
    "\u2028",
    "\x00",
]
to_values = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=()), max_size=20),  # lone surrogates too
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=8).map("".join),
    st.tuples(st.text(max_size=12), st.sampled_from(ADDRESSES)).map("{0[0]} <{0[1]}>".format),
)
# Names the email package quotes as they need, and addresses it reads as they are.
plain_names = st.text(st.characters(codec="ascii", categories=["L", "Nd", "Zs", "P"]), max_size=12)
plain_addresses = st.sampled_from(["ada@example.com", "lin@example.net", "x_y@sub.example.io"])
ADDRESS_LISTS = st.lists(
    st.tuples(plain_names, plain_addresses).map(formataddr), min_size=2, max_size=5
)
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Issue(NamedTuple):
    settings: Settings
    rendered: RenderedEmail

    def __repr__(self) -> str:  # hypothesis shows it with each failing example
        return "Issue(87)"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Issue:
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "issues", root / "issues")
    shutil.copytree(REPO / "templates", root / "templates")
    config = root / "mailer.toml"
    config.write_text(f'[newsletter]\npostal_address = "{POSTAL_ADDRESS}"\n', encoding="utf-8")
    found = Project(root, config).settings()
    return Issue(found, render_reference(found, Renderer(found), "87"))


def _refused(found: Settings, value: str) -> str | None:
    """The error for ``value``, or None when it is taken."""
    try:
        parse_reader(Mailer(found), value)
    except MailerError as exc:
        return command_line_message(exc)
    return None


@settings(SLOW, max_examples=500)
@given(value=to_values)
def test_any_to_value_is_one_reader_or_a_one_line_error(rendered: Issue, value: str) -> None:
    found, issue = rendered
    try:
        reader = parse_reader(Mailer(found), value)
    except MailerError as exc:
        message = command_line_message(exc)
        assert message.startswith("--to ") and "\n" not in message and "\r" not in message
        return
    # An address the project would store as it is (the 64-octet rule and the rest).
    assert normalize_address(reader.email).email == reader.email
    # The email package, reading the value itself, finds no second address in it.
    try:
        header = policy.strict.header_factory("To", value)
    except (ValueError, IndexError, AttributeError):
        # Names the email package cannot read (a CR LF once decoded, say); a name of a lone
        # "." makes its parser fail on itself.
        pass
    else:
        assert len(header.addresses) <= 1, header.addresses
    raw = render_output(found, issue, OutputFormat.eml, reader)
    to = parse(raw)["To"]
    assert [address.addr_spec for address in to.addresses] == [wire_address(reader.email)]
    assert [len(group.addresses) for group in to.groups] == [1]


@settings(SLOW, max_examples=150)
@given(entries=ADDRESS_LISTS, group=st.booleans())
def test_a_list_of_addresses_or_a_group_is_refused(
    rendered: Issue, entries: list[str], group: bool
) -> None:
    value = ", ".join(entries)
    if group:
        value = f"team: {value};"
    message = _refused(rendered[0], value)
    assert message is not None and message.startswith("--to ")
    assert ("group" if group else f"{len(entries)} addresses") in message


@settings(SLOW, max_examples=150)
@given(entry=st.tuples(plain_names, plain_addresses), junk=st.sampled_from([",", ";", " x"]))
def test_one_address_is_taken_with_its_name_and_nothing_after_it(
    rendered: Issue, entry: tuple[str, str], junk: str
) -> None:
    found = rendered[0]
    name, address = entry
    reader = parse_reader(Mailer(found), formataddr(entry))
    assert (reader.name, reader.email) == (name.strip(), normalize_address(address).email)
    assert _refused(found, formataddr(entry) + junk) is not None
