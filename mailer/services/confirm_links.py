"""The signed link in a confirmation mail.

Like every link in mail it carries ``#<subscriber id>`` and is bound to the address's key;
where other links carry one list, this one carries when it was made and every list the
signup asked for (``<unix seconds>:weekly,daily``), so that one mail and one button confirm
all of them, and only them: not a list the person was put on some other way, nor one a
stranger asks for later. The time lets a link confirm a list the person had left only when
it was made after they left: an old confirmation mail cannot undo a later unsubscribe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mailer.app import Mailer
from mailer.links import CONFIRM, link_url
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy, open_link

# Lists one signup may ask for: ten of the longest names still make a link well within the
# 2,048 characters a link token may have.
MAX_LISTS = 10
_LIST = r"[a-z0-9][a-z0-9_-]{0,99}"
_CARRIED = re.compile(rf"(\d{{1,12}}):({_LIST}(?:,{_LIST}){{0,{MAX_LISTS - 1}}})")


@dataclass(frozen=True)
class ConfirmLink:
    subscriber_id: int
    list_names: tuple[str, ...]
    issued_at: datetime
    """When the link was made, to the second."""


def confirm_url(
    mailer: Mailer, subscriber_id: int, email: str, list_names: tuple[str, ...], now: datetime
) -> str:
    assert 0 < len(list_names) <= MAX_LISTS, list_names
    carried = f"{int(now.timestamp())}:{','.join(list_names)}"
    base_url = mailer.settings.newsletter.base_url
    return link_url(base_url, mailer.signing_key, CONFIRM, subscriber_id, email, carried)


def open_confirm_link(mailer: Mailer, token: str) -> ConfirmLink:
    """What a genuine confirmation link names; InvalidLink for anything else (a changed or
    cut link, another purpose's link, one whose subscriber is gone or changed address)."""
    target = open_link(mailer, CONFIRM, token)
    if target.test_copy:
        raise LinkFromTestCopy()
    found = _CARRIED.fullmatch(target.list_name)
    # Links naming an address instead of an id were never made for confirmation.
    if target.subscriber_id is None or found is None:
        raise InvalidLink()
    issued = datetime.fromtimestamp(int(found[1]), UTC)
    return ConfirmLink(target.subscriber_id, tuple(found[2].split(",")), issued)
