"""The archive as any face reads it, with neither HTTP nor a command line in the archive's
part: issues sent through the outbox by the real command line, listed newest first in pages,
each one shown as sent but filled in for nobody, and ``archive: false`` keeping one out."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.app import Mailer
from mailer.content import parse_issue
from mailer.db.tables import campaigns
from mailer.errors import FieldError, LocatedError
from mailer.links import archive_url
from mailer.services import sends
from mailer.services.archive import NotInArchive, archive_page, archived_issue, latest_issues
from tests.archive_helpers import (
    MERGE_FIELDS_ISSUE,
    PERSONAL,
    READER_CITY,
    READER_EMAIL,
    Cli,
    Sent,
    copy_campaign,
    send,
    sent,
)
from tests.conftest import Project

__all__ = ["sent"]  # fixtures


@pytest.fixture
def mailer(sent: Sent) -> Iterator[Mailer]:
    app = Mailer(sent.project.settings(), environ={})
    yield app
    app.close()


def numbers(entries: tuple[object, ...]) -> list[int]:
    return [entry.number for entry in entries]  # type: ignore[attr-defined]


# The front matter key ---------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "archived"), [(None, True), ("false", False), ("no", False)])
def test_archive_in_the_front_matter_is_a_yes_or_no_that_defaults_to_yes(
    written: str | None, archived: bool
) -> None:
    text = MERGE_FIELDS_ISSUE
    if written is not None:
        text = text.replace("status: ready", f"status: ready\narchive: {written}")
    issue = parse_issue(Path("issues/0089-letters.md"), text.encode())
    assert issue.meta.archive is archived


def test_an_archive_value_that_is_no_yes_or_no_is_an_error_at_its_line() -> None:
    text = MERGE_FIELDS_ISSUE.replace("status: ready", "status: ready\narchive: maybe")
    with pytest.raises(LocatedError) as raised:
        parse_issue(Path("issues/0089-letters.md"), text.encode())
    assert str(raised.value).startswith("issues/0089-letters.md:9: archive:")
    assert "'maybe'" in str(raised.value)


# What the archive lists --------------------------------------------------------------------------


def test_sent_issues_are_listed_newest_first_with_their_title_and_preheader(
    mailer: Mailer,
) -> None:
    page = archive_page(mailer)
    assert numbers(page.entries) == [91, 89, 88, 87]  # 90 was sent with archive: false
    assert (page.older, page.newer) == (None, None)
    by_number = {entry.number: entry for entry in page.entries}
    assert by_number[87].title.startswith("A postal pact")
    assert by_number[87].subject.startswith("Tech in China #87")
    assert by_number[89].preheader == "What you wrote to us this month."
    today = datetime.now(UTC).date()
    assert abs(by_number[87].sent_on - today) <= timedelta(days=1)
    assert numbers(latest_issues(mailer, 2)) == [91, 89]


def _outbox_html(project: Project, campaign_id: int, email: str) -> str:
    for path in (project.root / "var" / "outbox" / f"campaign-{campaign_id}").glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if email in str(message["To"]):
            body = message.get_body(("html",))
            assert body is not None
            return str(body.get_content())
    raise AssertionError(f"no message to {email}")


def test_the_archive_copy_is_the_issue_as_sent_but_written_for_nobody(
    mailer: Mailer, sent: Sent
) -> None:
    mail = _outbox_html(sent.project, sent.campaigns[89], READER_EMAIL)
    assert READER_EMAIL in mail and READER_CITY in mail and "/unsubscribe/" in mail  # the mail
    issue = archived_issue(mailer, 89, reader_name="reader")
    assert "Dear reader, hello reader from ." in issue.html
    assert "Dear reader, hello reader from ." in issue.text
    for copy in (issue.html, issue.text):
        assert not [value for value in PERSONAL if value in copy]
        assert "/unsubscribe/" not in copy and "/preferences/" not in copy
        assert "@@" not in copy  # no merge token left unfilled
    home = mailer.settings.newsletter.base_url + "/"
    assert f'href="{home}"' in issue.html  # where the unsubscribe link went
    assert archive_url(mailer.settings.newsletter.base_url, 89) in issue.html  # view in browser
    # Every other part of the mail is there as it was sent.
    assert mail.count("Letters from our readers") == issue.html.count("Letters from our readers")


def test_an_issue_sent_with_archive_false_or_never_sent_is_not_in_the_archive(
    mailer: Mailer,
) -> None:
    for number in (90, 92, 0, 1_000_000):
        with pytest.raises(NotInArchive):
            archived_issue(mailer, number)


def test_the_newest_send_of_an_issue_decides_whether_it_is_shown(
    mailer: Mailer, sent: Sent, cli: Cli
) -> None:
    issue = next(sent.project.issues.glob("0087-*.md"))
    original = issue.read_text(encoding="utf-8")
    first = archive_page(mailer).entries[-1]
    issue.write_text(original.replace("status: ready", "status: ready\narchive: false"), "utf-8")
    send(cli, "87")
    assert 87 not in numbers(archive_page(mailer).entries)
    with pytest.raises(NotInArchive):
        archived_issue(mailer, 87)
    issue.write_text(original.replace("Good morning.", "Good evening."), "utf-8")
    send(cli, "87")
    again = archived_issue(mailer, 87)
    assert "Good evening." in again.html and "Good morning." not in again.html
    assert again.entry.first_sent_at == first.first_sent_at  # first went out back then
    assert again.entry.sent_at > first.sent_at


def _set_status(mailer: Mailer, campaign_id: int, status: str) -> None:
    with mailer.engine.begin() as connection:
        connection.execute(
            sa.update(campaigns).where(campaigns.c.id == campaign_id).values(status=status)
        )


def test_a_send_under_way_is_in_the_archive_once_something_went_out(
    mailer: Mailer, sent: Sent
) -> None:
    sent.project.write_issue(
        "0092-under-way.md", MERGE_FIELDS_ISSUE.replace("number: 89", "number: 92")
    )
    # Started, nothing sent yet: the readers have nothing to view in a browser.
    waiting = sends.send_now(mailer, sends.plan(mailer, "92", "weekly", transport="outbox"))
    assert 92 not in numbers(archive_page(mailer).entries)
    # Part of the list has it (the batches of issue 88's send went out).
    _set_status(mailer, waiting, "cancelled")
    _set_status(mailer, sent.campaigns[88], "sending")
    assert 88 in numbers(archive_page(mailer).entries)
    _set_status(mailer, sent.campaigns[88], "paused")
    assert archived_issue(mailer, 88).entry.number == 88
    # Called off: it is not published by a cancelled send alone.
    _set_status(mailer, sent.campaigns[88], "cancelled")
    assert 88 not in numbers(archive_page(mailer).entries)
    with pytest.raises(NotInArchive):
        archived_issue(mailer, 88)


def test_pages_are_marked_by_issue_numbers_and_do_not_shift_when_an_issue_goes_out(
    mailer: Mailer, sent: Sent
) -> None:
    copy_campaign(mailer.engine, sent.campaigns[87], range(1, 46))
    first = archive_page(mailer)
    assert numbers(first.entries) == [91, 89, 88, 87, *range(45, 29, -1)]
    assert (first.newer, first.older) == (None, 30)
    second = archive_page(mailer, before=30)
    assert numbers(second.entries) == list(range(29, 9, -1))
    assert (second.newer, second.older) == (29, 10)
    last = archive_page(mailer, before=10)
    assert numbers(last.entries) == list(range(9, 0, -1))
    assert (last.newer, last.older) == (9, None)
    assert archive_page(mailer, after=9) == second
    assert archive_page(mailer, after=29) == first
    copy_campaign(mailer.engine, sent.campaigns[87], range(46, 47))  # a new issue goes out
    assert archive_page(mailer, before=30) == second
    assert (
        archive_page(mailer, before=1)
        == archive_page(mailer, after=91)
        == archive_page(mailer, after=100)
    )
    assert archive_page(mailer, before=1).entries == ()
    with pytest.raises(FieldError) as raised:
        archive_page(mailer, before=10, after=20)
    assert raised.value.field == "after"


# Any mix of sends ------------------------------------------------------------------------------

T0 = datetime(2030, 1, 1, tzinfo=UTC)
CAMPAIGN = {
    "issue_file": "x.md",
    "list_name": "weekly",
    "transport": "outbox",
    "subject": "An issue",
    "html": "<p>x</p>",
}
SENDS = st.lists(
    st.tuples(
        st.integers(1, 40),  # issue number
        st.sampled_from(["sent", "sent", "cancelled", "sending", "draft"]),
        st.booleans(),  # archived
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def bare_mailer(module_engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Mailer:
    """An application object on the module's database, with no issue ever sent."""
    root = tmp_path_factory.mktemp("archive")
    (root / "mailer.toml").write_text("", encoding="utf-8")
    (root / "templates" / "web").mkdir(parents=True)
    app = Mailer(Project(root, root / "mailer.toml").settings(), environ={})
    app.__dict__["engine"] = module_engine  # the module's database, already migrated
    return app


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(made=SENDS, size=st.integers(1, 9))
def test_walking_the_pages_either_way_shows_each_archived_issue_once(
    bare_mailer: Mailer, made: list[tuple[int, str, bool]], size: int
) -> None:
    with bare_mailer.engine.begin() as connection:
        connection.execute(sa.delete(campaigns))
        for step, (number, status, archived) in enumerate(made):
            started = T0 + timedelta(hours=step)
            row = {"issue_number": number, "status": status, "archived": archived}
            moments = {"created_at": started, "updated_at": started, "started_at": started}
            connection.execute(sa.insert(campaigns).values({**CAMPAIGN, **row, **moments}))
    newest: dict[int, tuple[str, bool]] = {}
    for number, status, archived in made:  # later sends are newer
        if status == "sent":
            newest[number] = (status, archived)
    expected = sorted((n for n, (_, archived) in newest.items() if archived), reverse=True)
    pages = [archive_page(bare_mailer, size=size)]
    while pages[-1].older is not None:
        pages.append(archive_page(bare_mailer, before=pages[-1].older, size=size))
    assert [number for page in pages for number in numbers(page.entries)] == expected
    assert all(len(page.entries) == size for page in pages[:-1])
    for newer, older in itertools.pairwise(pages):
        assert older.newer is not None
        assert archive_page(bare_mailer, after=older.newer, size=size) == newer
    for number in range(1, 41):
        if number in expected:
            assert archived_issue(bare_mailer, number).html == "<p>x</p>"
        else:
            with pytest.raises(NotInArchive):
                archived_issue(bare_mailer, number)
