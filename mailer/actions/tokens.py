"""API tokens on behalf of a principal: listing, making and revoking them all take
``manage_users`` (owners). The rules (names, roles, the sending right, the hash kept in place
of the secret) and the audit entries ("token.create", "token.revoke", written in the
transaction of the change) are the accounts core's, the very ones ``mailer tokens`` uses, so a
token made in the app and one made on the command line are the same thing.

A token outlives the account of whoever made it: it belongs to the installation (a deploy
script, a CMS), and removing a person must not silently break what runs with it. Its
``created_by`` stays as text, like the audit log's actors, and ``TokenListing.creator_gone``
tells an owner which tokens were made by someone who has no account now, to revoke them if
that person should no longer have access.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailer.accounts.roles import Permission, Principal, Role
from mailer.accounts.tokens import (
    ApiToken,
    check_token_name,
    create_token,
    list_tokens,
    revoke_token,
)
from mailer.accounts.users import list_users
from mailer.app import Mailer
from mailer.errors import FieldError, NotFoundError


@dataclass(frozen=True)
class TokenListing:
    token: ApiToken
    creator_gone: bool
    """Made by a person (``created_by`` an address) who has no account any more."""


def token_listing(mailer: Mailer, principal: Principal) -> list[TokenListing]:
    """Every token, revoked ones too, by name."""
    principal.require(Permission.MANAGE_USERS)
    people = {user.email for user in list_users(mailer)}
    return [
        TokenListing(token, "@" in token.created_by and token.created_by not in people)
        for token in list_tokens(mailer)
    ]


def find_token(mailer: Mailer, principal: Principal, name: str) -> ApiToken:
    """The token named ``name``; NotFoundError when there is none."""
    principal.require(Permission.MANAGE_USERS)
    missing = NotFoundError(f"no token is named {name[:80]!r}")
    try:
        check_token_name(name)
    except FieldError:
        raise missing from None
    for token in list_tokens(mailer):
        if token.name == name:
            return token
    raise missing


def make_token(
    mailer: Mailer, principal: Principal, name: str, role: Role | str, can_send: bool | None
) -> tuple[ApiToken, str]:
    """A new token and its secret: the secret is not stored anywhere, so the caller shows it
    once and forgets it. FieldErrors name ``name``, ``role`` or ``can_send``."""
    principal.require(Permission.MANAGE_USERS)
    return create_token(mailer, name, role, can_send, actor=principal.actor)


def revoke(mailer: Mailer, principal: Principal, name: str) -> ApiToken:
    """Revoke the token: its secret is refused from the next request on. NotFoundError when
    no token has that name; a FieldError for ``name`` when it is revoked already."""
    find_token(mailer, principal, name)
    return revoke_token(mailer, name, actor=principal.actor)
