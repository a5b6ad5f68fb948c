"""Public URLs of the web app that mail links to: archive, unsubscribe and preferences."""

from __future__ import annotations

from collections.abc import Mapping

from mailer.render.tokens import Recipient
from mailer.signing import sign, sign_each

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


def subscriber_urls(
    base_url: str, key: bytes, email: str, list_name: str = "", *, preferences: bool = True
) -> tuple[str, str]:
    """The unsubscribe URL and (when asked for, else "") the preferences URL, signed together."""
    payload = _subscriber_payload(email, list_name)
    if not preferences:
        return f"{base_url}/{UNSUBSCRIBE}/{sign(key, UNSUBSCRIBE, payload)}", ""
    unsubscribe, manage = sign_each(key, (UNSUBSCRIBE, PREFERENCES), payload)
    return f"{base_url}/{UNSUBSCRIBE}/{unsubscribe}", f"{base_url}/{PREFERENCES}/{manage}"


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
