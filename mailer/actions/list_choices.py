"""The lists a form offers to choose from, on behalf of a principal who may read: names and
titles only, without the member counts the lists pages show."""

from __future__ import annotations

from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import check_limit
from mailer.app import Mailer
from mailer.audience.list_names import ListName, list_names


def list_choices(mailer: Mailer, principal: Principal, *, limit: int) -> list[ListName]:
    """The first ``limit`` lists by name."""
    principal.require(Permission.READ)
    return list_names(mailer.engine, check_limit(limit))
