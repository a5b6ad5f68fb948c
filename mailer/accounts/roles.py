"""Roles, the permissions each gives, and the principal: who is acting, with what rights.

Four roles, each with the rights of the one below and more: a viewer reads; an editor also
writes issues (previews, test sends, campaign drafts); an admin also manages the audience and
campaigns; an owner also manages users and reads the audit log. Sending (or scheduling) a
campaign is apart: an owner always may, a viewer never, the others when ``can_send`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from mailer.accounts.errors import Forbidden
from mailer.errors import FieldError


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ = "read"
    # Issues, previews, test sends, campaign drafts.
    EDIT_ISSUES = "edit_issues"
    # Lists, subscribers, imports, exports, suppressions.
    MANAGE_AUDIENCE = "manage_audience"
    # Create, pause, resume, cancel and resolve campaigns; not send them.
    MANAGE_CAMPAIGNS = "manage_campaigns"
    # Send or schedule a campaign.
    SEND = "send"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


# What "may not ..." says for each permission.
DOING = {
    Permission.READ: "read anything",
    Permission.EDIT_ISSUES: "edit issues",
    Permission.MANAGE_AUDIENCE: "manage lists and subscribers",
    Permission.MANAGE_CAMPAIGNS: "manage campaigns",
    Permission.SEND: "send campaigns",
    Permission.MANAGE_USERS: "manage users and tokens",
    Permission.VIEW_AUDIT: "read the audit log",
}

_VIEWER = frozenset({Permission.READ})
_EDITOR = _VIEWER | {Permission.EDIT_ISSUES}
_ADMIN = _EDITOR | {Permission.MANAGE_AUDIENCE, Permission.MANAGE_CAMPAIGNS}
_OWNER = frozenset(Permission)
_BY_ROLE = {Role.VIEWER: _VIEWER, Role.EDITOR: _EDITOR, Role.ADMIN: _ADMIN, Role.OWNER: _OWNER}
# can_send when it is not given.
SENDS_BY_DEFAULT = {Role.OWNER: True, Role.ADMIN: True, Role.EDITOR: False, Role.VIEWER: False}


def permissions(role: Role, can_send: bool) -> frozenset[Permission]:
    """What ``role`` may do; ``send`` only with ``can_send`` (always for an owner, never for a
    viewer)."""
    granted = _BY_ROLE[role]
    if role is Role.OWNER or (can_send and role is not Role.VIEWER):
        return granted | {Permission.SEND}
    return granted - {Permission.SEND}


def role_named(value: Role | str) -> Role:
    """The role ``value`` names, or a FieldError for ``role`` that lists the roles."""
    try:
        return Role(value)
    except ValueError:
        shown = str(value)[:40]
        raise FieldError("role", f"use one of {', '.join(Role)}", shown) from None


def can_send_for(role: Role, can_send: bool | None) -> bool:
    """``can_send`` as it is stored for ``role``: the role's default when not given; a
    FieldError for ``can_send`` when it contradicts the role (an owner always sends, a viewer
    never does)."""
    if can_send is None:
        return SENDS_BY_DEFAULT[role]
    if role is Role.OWNER and not can_send:
        raise FieldError("can_send", "an owner can always send campaigns")
    if role is Role.VIEWER and can_send:
        raise FieldError("can_send", "a viewer can never send campaigns")
    return can_send


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person logged in, an API token, or the shell's user."""

    kind: Literal["user", "token", "cli"]
    name: str
    """The person's address, the token's name, or "cli"."""
    role: Role
    can_send: bool
    user_id: int | None = None
    token_id: int | None = None

    @classmethod
    def cli(cls) -> Principal:
        """The command line's user: whoever has the server's shell and its config has every
        right already, so they act as an owner."""
        return cls("cli", "cli", Role.OWNER, True)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions(self.role, self.can_send)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Forbidden, naming the role, the principal and the action, unless it may."""
        if not self.can(permission):
            raise Forbidden(f"{self.role} {self.shown}", permission, DOING[permission])

    @property
    def actor(self) -> str:
        """How the audit log names them: "ann@example.com", "token:deploy" or "cli"."""
        return f"token:{self.name}" if self.kind == "token" else self.name

    @property
    def shown(self) -> str:
        return f"token {self.name}" if self.kind == "token" else self.name
