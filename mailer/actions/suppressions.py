"""Global suppressions on behalf of a principal: read with ``read``, add and lift with
``manage_audience``; each change in the audit log."""

from __future__ import annotations

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.audience import suppressions
from mailer.audience.addresses import Address, InvalidAddress, normalize_address
from mailer.audience.suppressions import Suppression, SuppressionKey
from mailer.db.engine import write_transaction
from mailer.errors import FieldError


def suppression_page(
    mailer: Mailer,
    principal: Principal,
    *,
    after: SuppressionKey | None,
    limit: int,
    prefix: str = "",
) -> Page[tuple[SuppressionKey, Suppression], SuppressionKey]:
    """Suppressions by address after the key ``after``, only those whose address starts with
    ``prefix`` when one is given; each with its key."""
    principal.require(Permission.READ)
    found = suppressions.suppressions_after(mailer.engine, after, check_limit(limit) + 1, prefix)
    return page_of(found, limit, lambda keyed: keyed[0])


def _address(email: str) -> Address:
    try:
        return normalize_address(email)
    except InvalidAddress as exc:
        raise FieldError("email", f"not a valid email address: {exc}") from None


def suppress(
    mailer: Mailer, principal: Principal, email: str, reason: str = "manual", detail: str = ""
) -> tuple[Suppression, bool]:
    """The address's suppression, and whether it was added now (an address suppressed
    already keeps its first reason, and nothing is recorded)."""
    principal.require(Permission.MANAGE_AUDIENCE)
    suppressions.check_reason(reason)
    address = _address(email)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        added = suppressions.add_suppression(
            connection, address.key, address.email, reason, detail, lambda: now
        )
        if added:
            audit.record(
                connection,
                principal.actor,
                "suppression.add",
                address.email,
                {"reason": reason, "detail": detail},
                now,
            )
        found = suppressions.find_suppression(connection, address.key)
    assert found is not None  # added now or before, in this transaction
    return found, added


def unsuppress(mailer: Mailer, principal: Principal, email: str, reason: str) -> Suppression:
    """Lift the address's suppression, so it can be mailed again; ``reason`` (why it is
    lifted) goes into the audit log with the suppression's own reason."""
    principal.require(Permission.MANAGE_AUDIENCE)
    address = _address(email)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        lifted = suppressions.remove_suppression(connection, address.key, address.email)
        detail = {"reason": reason, "suppressed_for": lifted.reason, "detail": lifted.detail}
        target = lifted.email or address.email  # as it was suppressed, whatever its case now
        audit.record(connection, principal.actor, "suppression.remove", target, detail, now)
    return lifted
