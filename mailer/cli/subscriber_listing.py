"""How ``mailer subscribers`` prints a listing: a page with the number that match and the
command for the next page, or everyone as it is read (``--all``)."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.cli.context import print_json_array
from mailer.cli.errors import fields_as_options
from mailer.errors import MailerError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.audience.subscriber_listing import Filters, ListingPage
    from mailer.audience.subscribers import Subscriber

DEFAULT_LIMIT = 50
# The core's names for what the options give.
_OPTIONS = {"after": "--after", "limit": "--limit", "offset": "--offset", "status": "--status"}


@dataclass(frozen=True)
class PageRequest:
    """Which page the options ask for."""

    limit: int | None
    after: str | None
    offset: int | None
    everyone: bool


def print_listing(
    engine: sa.Engine,
    filters: Filters,
    request: PageRequest,
    *,
    as_json: bool,
    config: Path | None,
) -> None:
    from mailer.audience.subscriber_listing import Position, iter_listing, listing_page

    if filters.status is not None and filters.list_name is None:
        raise MailerError("--status needs --list: a status belongs to a list membership")
    with fields_as_options(_OPTIONS):
        if request.everyone:
            _refuse_paging_with_all(request)
            found = iter_listing(engine, filters)
            if as_json:
                print_json_array(subscriber.as_json() for subscriber in found)
            else:
                count = _lines(found)
                sys.stdout.write(f"{count:,} subscriber{'s' if count != 1 else ''}.\n")
            return
        after = None if request.after is None else Position.from_cursor(request.after)
        limit = DEFAULT_LIMIT if request.limit is None else request.limit
        page = listing_page(engine, filters, limit=limit, after=after, offset=request.offset or 0)
    if as_json:
        _json_page(page)
        return
    _lines(page.items)
    sys.stdout.write(_foot(page) + "\n")
    if page.next is not None:
        command = _next_command(filters, request, page.next.cursor(), config)
        sys.stdout.write(f"Next page: {command}\n")


def _refuse_paging_with_all(request: PageRequest) -> None:
    given = [
        name
        for name, value in (
            ("--limit", request.limit),
            ("--after", request.after),
            ("--offset", request.offset),
        )
        if value is not None
    ]
    if given:
        raise MailerError(f"--all lists everyone: leave out {', '.join(given)}")


def _foot(page: ListingPage) -> str:
    noun = "subscriber" if page.total == 1 else "subscribers"
    if not page.items:
        if page.total == 0:
            return f"No {noun}."
        return f"Nothing past number {page.offset:,}: {page.total:,} {noun} in all."
    first, last = page.offset + 1, page.offset + len(page.items)
    return f"Showing {first:,}-{last:,} of {page.total:,} {noun}."


def _next_command(filters: Filters, request: PageRequest, cursor: str, config: Path | None) -> str:
    words = ["mailer"]
    if config is not None:
        words += ["--config", str(config)]
    words.append("subscribers")
    for option, value in (
        ("--list", filters.list_name),
        ("--status", filters.status),
        ("--search", filters.search),
        ("--segment", filters.segment),
        ("--limit", None if request.limit is None else str(request.limit)),
        ("--after", cursor),
    ):
        if value is not None:
            words += [option, value]
    return shlex.join(words)


def _line(
    email: str, name: str, status: str, timezone: str, attributes: str, width: int | None
) -> str:
    # A plain line per subscriber, written as it is read; a long cell pushes the rest of its
    # own line only. Where the line is wider than the terminal, the time zone and the
    # attributes go on the indented lines below.
    from mailer.cli.table_fit import row_lines

    line = f"{email:<32} {name:<20} {status:<12} {timezone:<20} {attributes}".rstrip()
    if width is None or len(line) <= width:
        return line + "\n"
    start = f"{email:<32} {name:<20} {status:<12}"
    below = [timezone, attributes]
    if len(start.rstrip()) > width:  # a long name goes below too
        start, below = f"{email:<32} {status}", [name, *below]
    return row_lines(start, " ".join(cell for cell in below if cell), width)


def _lines(found: Iterable[Subscriber]) -> int:
    from mailer.cli.table_fit import line_width

    width = line_width()
    write = sys.stdout.write
    write(_line("email", "name", "status", "timezone", "attributes", width))
    count = 0
    for subscriber in found:
        attributes = ", ".join(f"{k}={v}" for k, v in sorted(subscriber.attributes.items()))
        name = " ".join(subscriber.name.split())  # one line each, whatever the name holds
        timezone = subscriber.timezone or ""
        status = subscriber.status or ""
        write(_line(subscriber.email, name, status, timezone, attributes, width))
        count += 1
    return count


def _json_page(page: ListingPage) -> None:
    data = {
        "total": page.total,
        "offset": page.offset,
        "subscribers": [subscriber.as_json() for subscriber in page.items],
        "next_after": None if page.next is None else page.next.cursor(),
    }
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
