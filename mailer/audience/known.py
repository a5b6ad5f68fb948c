"""What the database already holds for an incoming address."""

from __future__ import annotations

from typing import Any, NamedTuple


class KnownRow(NamedTuple):
    """A stored subscriber with this address (id None if there is none), their membership
    status on the list being written (None if not on it), and the suppression reason if the
    address is suppressed."""

    subscriber_id: int | None
    name: str
    timezone: str | None
    attributes: dict[str, Any] | None
    status: str | None
    reason: str | None
