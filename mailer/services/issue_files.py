"""The issues folder as the admin app and the API see it: an issue found by its number, the
lists each issue went out to, and test copies sent to one to five addresses (what
``mailer test-send`` does, for a face that names the issue by number)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.app import Mailer
from mailer.content import MAX_ISSUE_NUMBER, issue_files
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.audience.named_address import NamedAddress

MAX_TEST_ADDRESSES = 5
NUMBER_DIGITS = len(str(MAX_ISSUE_NUMBER))


def issue_number(text: str) -> int:
    """The issue number ``text`` names (1 to 999999, ASCII digits only), or NotFoundError:
    anything else (``../x``, ``1e3``, ``²``) names no issue."""
    if not (text.isascii() and text.isdecimal() and len(text) <= NUMBER_DIGITS):
        raise NotFoundError(f"no issue number {text[:40]!r}")
    number = int(text)
    if not 1 <= number <= MAX_ISSUE_NUMBER:
        raise NotFoundError(f"no issue number {number}")
    return number


def file_number(path: Path) -> int:
    """The number in an issue file's name (``0087-slug.md`` -> 87)."""
    return int(path.name.split("-", 1)[0])


def issue_path(issues_dir: Path, number: int) -> Path:
    """The one file of issue ``number``: NotFoundError when there is none, ConflictError
    when two files claim the number."""
    found = [path for path in issue_files(issues_dir) if file_number(path) == number]
    if not found:
        raise NotFoundError(f"no issue number {number}")
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise ConflictError(f"issue number {number} is in more than one file: {names}")
    return found[0]


def sent_lists(engine: sa.Engine) -> dict[int, list[str]]:
    """For each issue number, the lists a campaign of it started sending to, by name."""
    # The three columns named here, not mailer.db.tables: `mailer issues` reads this, and
    # loading every table's definition would be most of its start-up time. SQLAlchemy itself is
    # loaded here, not with the module, so `mailer issues` without a database never loads it.
    import sqlalchemy as sa

    campaigns = sa.table(
        "campaigns", sa.column("issue_number"), sa.column("list_name"), sa.column("started_at")
    )
    query = (
        sa.select(campaigns.c.issue_number, campaigns.c.list_name)
        .where(campaigns.c.started_at.is_not(None))
        .distinct()
        .order_by(campaigns.c.issue_number, campaigns.c.list_name)
    )
    found: dict[int, list[str]] = {}
    with engine.connect() as connection:
        for number, list_name in connection.execute(query):
            found.setdefault(int(number), []).append(list_name)
    return found


def readers_of(texts: Sequence[str], field: str = "to") -> list[NamedAddress]:
    """The readers ``texts`` name (each ``email`` or ``Name <email>``, held to the rules an
    import applies), one per address however written; one to five of them."""
    from mailer.audience.named_address import named_address

    readers: dict[str, NamedAddress] = {}
    for text in texts:
        reader = named_address(text.strip(), field)
        readers.setdefault(reader.address.key, reader)
    if not 1 <= len(readers) <= MAX_TEST_ADDRESSES:
        raise FieldError(field, f"give 1 to {MAX_TEST_ADDRESSES} addresses (got {len(readers)})")
    return list(readers.values())


@dataclass(frozen=True)
class SentCopies:
    transport: str
    sent: list[str]
    refused: dict[str, str]
    """Address -> why the transport refused it."""
    message_id: str | None


def send_test(mailer: Mailer, path: Path, readers: Sequence[NamedAddress]) -> SentCopies:
    """Send test copies of the issue at ``path`` (subject marked [TEST]) through the
    configured transport; an issue with errors is refused with what `mailer check` finds."""
    from mailer.delivery.sending import render_checked, send_test_copies
    from mailer.delivery.transports.base import AnswerLost, TransportError
    from mailer.render.output import stored_readers

    settings = mailer.settings
    rendered = render_checked(settings, mailer.renderer, str(path))
    name = settings.transport.default
    sender = mailer.transport(name)
    addresses = [reader.address.email for reader in readers]
    try:
        known = stored_readers(mailer, [reader.address for reader in readers])
        result = send_test_copies(settings, rendered, readers, sender, mailer.signing_key, known)
    except AnswerLost as exc:
        raise MailerError(
            f"the test copies may or may not have gone out via {name}: {exc}"
        ) from None
    except TransportError as exc:  # nothing was sent: a server down, a key refused
        raise MailerError(f"no test copy was sent via {name}: {exc}") from None
    refused = {addresses[index]: reason for index, reason in result.rejected.items()}
    sent = [address for address in addresses if address not in refused]
    return SentCopies(name, sent, refused, result.message_id)
