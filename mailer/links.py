"""Public URLs of the web app that mail links to: archive, unsubscribe and preferences."""

from __future__ import annotations

from collections.abc import Mapping

from mailer.render.tokens import Recipient
from mailer.signing import Signer, sign

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"


def archive_url(base_url: str, issue_number: int) -> str:
    return f"{base_url}/archive/{issue_number}"


def _subscriber_payload(email: str, list_name: str) -> str:
    return f"{email.lower()}\n{list_name}"


def unsubscribe_url(base_url: str, key: bytes, email: str, list_name: str = "") -> str:
    return (
        f"{base_url}/{UNSUBSCRIBE}/{sign(key, UNSUBSCRIBE, _subscriber_payload(email, list_name))}"
    )


def preferences_url(base_url: str, key: bytes, email: str, list_name: str = "") -> str:
    return (
        f"{base_url}/{PREFERENCES}/{sign(key, PREFERENCES, _subscriber_payload(email, list_name))}"
    )


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

    def urls(self, email: str) -> tuple[str, str]:
        tokens = self._signer.sign(_subscriber_payload(email, self.list_name))
        unsubscribe = self._unsubscribe + tokens[0]
        return unsubscribe, (self._preferences + tokens[1] if self.preferences else "")


def subscriber_urls(
    base_url: str, key: bytes, email: str, list_name: str = "", *, preferences: bool = True
) -> tuple[str, str]:
    """The unsubscribe URL and (when asked for, else "") the preferences URL, signed together."""
    return SubscriberLinks(base_url, key, list_name, preferences=preferences).urls(email)


def recipient(
    base_url: str,
    key: bytes,
    email: str,
    name: str = "",
    attributes: Mapping[str, str] | None = None,
    list_name: str = "",
) -> Recipient:
    unsubscribe, manage = subscriber_urls(base_url, key, email, list_name)
    return Recipient(email, name, unsubscribe, manage, dict(attributes or {}))
