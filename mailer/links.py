"""Public URLs of the web app that mail links to: archive, unsubscribe, preferences and
confirmation, and reading the signed tokens in them.

A token carries ``#<subscriber id>`` and the list's name, signed for one purpose and bound to
the subscriber's address key: the address is in the signature, not in the URL, so a link shows
nothing personal to whoever sees it (logs, proxies, a forwarded mail), and it stops working
for anyone else who might get that id later. Id 0 marks a test copy or a preview, which
unsubscribes nobody. Tokens made before carried the address itself (``address\\nlist``); they
keep verifying, since links in mail already sent must keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mailer.audience.addresses import address_key
from mailer.render.tokens import NO_ATTRIBUTES, Recipient
from mailer.signing import Signer, peek, sign, verify

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
CONFIRM = "confirm"
TEST_COPY_ID = 0


def archive_url(base_url: str, issue_number: int) -> str:
    return f"{base_url}/archive/{issue_number}"


def _payload(subscriber_id: int, list_name: str) -> str:
    return f"#{subscriber_id}\n{list_name}"


def link_token(key: bytes, purpose: str, subscriber_id: int, email: str, list_name: str) -> str:
    bound = address_key(email) if subscriber_id != TEST_COPY_ID else ""
    return sign(key, purpose, _payload(subscriber_id, list_name), bound)


def link_url(
    base_url: str, key: bytes, purpose: str, subscriber_id: int, email: str, list_name: str = ""
) -> str:
    """``base_url/<purpose>/<token>``: the unsubscribe, preferences or confirmation link."""
    return f"{base_url}/{purpose}/{link_token(key, purpose, subscriber_id, email, list_name)}"


class SubscriberLinks:
    """Signed unsubscribe and (when asked for, else "") preferences URLs for the subscribers
    of one list, with the signing set up once for a whole send."""

    def __init__(
        self, base_url: str, key: bytes, list_name: str = "", *, preferences: bool = True
    ) -> None:
        self.list_name = list_name
        self.preferences = preferences
        self._unsubscribe = f"{base_url}/{UNSUBSCRIBE}/"
        self._preferences = f"{base_url}/{PREFERENCES}/"
        self._signer = Signer(key, (UNSUBSCRIBE, PREFERENCES) if preferences else (UNSUBSCRIBE,))

    def urls(self, subscriber_id: int, email: str) -> tuple[str, str]:
        # address_key is str.lower(), inlined: this runs for every recipient of a send. A test
        # copy's links are bound to nobody: they unsubscribe nobody.
        bound = email.lower() if subscriber_id != TEST_COPY_ID else ""
        tokens = self._signer.sign(f"#{subscriber_id}\n{self.list_name}", bound)
        unsubscribe = self._unsubscribe + tokens[0]
        return unsubscribe, (self._preferences + tokens[1] if self.preferences else "")


def recipient(
    base_url: str,
    key: bytes,
    email: str,
    name: str = "",
    attributes: Mapping[str, str] | None = None,
    list_name: str = "",
    subscriber_id: int = TEST_COPY_ID,
) -> Recipient:
    """A reader outside a send (a preview, a rendered file, a test copy): links are marked as
    a test copy's unless a subscriber is named."""
    links = SubscriberLinks(base_url, key, list_name)
    unsubscribe, manage = links.urls(subscriber_id, email)
    return Recipient(email, name, unsubscribe, manage, attributes or NO_ATTRIBUTES)


@dataclass(frozen=True)
class LinkTarget:
    """Whom a genuine link is for."""

    subscriber_id: int | None
    """None for a link of the old kind, which names the address instead."""
    email: str | None
    list_name: str
    """"" when the link names no list (from a test copy, or about every list)."""

    @property
    def test_copy(self) -> bool:
        return self.subscriber_id == TEST_COPY_ID


def read_link(
    key: bytes, purpose: str, token: str, address_key_of: Callable[[int], str | None]
) -> LinkTarget | None:
    """The target of a token genuine for ``purpose``, or None. ``address_key_of`` gives a
    subscriber's current address key (None when there is no such subscriber)."""
    if len(token) > 2048:
        return None
    carried = peek(token)
    if carried is None:
        return None
    first, newline, list_name = carried.partition("\n")
    if not newline:
        return None
    if first.startswith("#"):
        digits = first[1:]
        if not (digits.isascii() and digits.isdecimal()) or len(digits) > 18:
            return None
        subscriber_id = int(digits)
        bound = "" if subscriber_id == TEST_COPY_ID else address_key_of(subscriber_id)
        if bound is None or verify(key, purpose, token, bound) is None:
            return None
        return LinkTarget(subscriber_id, None, list_name)
    if verify(key, purpose, token) is None:
        return None
    return LinkTarget(None, first, list_name)
