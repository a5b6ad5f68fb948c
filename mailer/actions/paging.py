"""One page of a listing in key order, and where the next page starts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mailer.errors import FieldError

Item = TypeVar("Item")
Key = TypeVar("Key")

# The most items one page may hold, and how many a page holds when not told.
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[Item, Key]):
    items: list[Item]
    next_after: Key | None
    """The key of the last item when more may follow (pass it as ``after``); else None."""


def page_of(rows: Sequence[Item], limit: int, key: Callable[[Item], Key]) -> Page[Item, Key]:
    """The page from ``rows``, fetched with ``limit + 1`` so that a full last page is not
    followed by an empty one."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, key(items[-1]) if more and items else None)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"use 1 to {MAX_LIMIT}", str(limit))
    return limit
