"""The archive's issue pages a server keeps ready (``[web] archive_cache``), so that showing
an issue costs one small query (which send of it is shown now) and a look-up.

A page is kept under what decides it: the send it shows (a campaign's content is stored when
it starts and never changes after) and the path the server is mounted under. Everything else
on the page comes from this server's settings and templates, fixed while it runs. Nothing here
is needed by any other server process: it is all made again from the database on a miss. The
question which send is shown is asked of the database on every request, so a send made or
called off by another process shows at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

# A few dozen pages of about 30 KB: the issues readers are opening this week, and then some.
MAX_PAGES = 64


class IssuePages:
    """Finished pages by key, the least recently used going first when full. Used from the
    event loop's thread only, so it needs no lock."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: Hashable, page: bytes) -> None:
        self._pages[key] = page
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
