"""People's accounts: add, list, find, remove, change a password or a role. Each change is
written with its audit entry in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.accounts.audit import record
from mailer.accounts.passwords import check_new_password, hash_password
from mailer.accounts.roles import Principal, Role, can_send_for, role_named
from mailer.accounts.sessions import end_sessions_of
from mailer.app import Mailer
from mailer.audience.addresses import ADDRESS_MAX, Address, InvalidAddress, normalize_address
from mailer.db.engine import write_transaction
from mailer.db.tables import users
from mailer.errors import FieldError, MailerError

# How much of a typed value an error repeats: enough to recognize it.
SHOWN_MAX = 80


class LastOwner(MailerError):
    """The change would leave no owner, and nobody could manage users any more."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: Role
    can_send: bool
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime

    @property
    def principal(self) -> Principal:
        return Principal("user", self.email, self.role, self.can_send, user_id=self.id)

    def as_json(self) -> dict[str, object]:
        return {
            "email": self.email,
            "role": str(self.role),
            "can_send": self.can_send,
            "created_at": _iso(self.created_at),
            "password_changed_at": _iso(self.password_changed_at),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def shown(value: str) -> str:
    """``value`` cut short for an error message."""
    return value if len(value) <= SHOWN_MAX else value[:SHOWN_MAX] + "…"


def checked_address(email: str) -> Address:
    """The account's address, or a FieldError for ``email`` saying why it is not one."""
    if len(email.strip()) > ADDRESS_MAX:
        raise FieldError(
            "email",
            f"is {len(email.strip()):,} characters long; an address has at most {ADDRESS_MAX}",
            shown(email.strip()),
        )
    try:
        return normalize_address(email)
    except InvalidAddress as exc:
        raise FieldError("email", f"not a valid email address: {exc}", shown(email)) from None


def _user(row: Any) -> User:
    return User(
        row.id,
        row.email,
        Role(row.role),
        row.can_send,
        row.created_at,
        row.updated_at,
        row.password_changed_at,
    )


def _row_of(connection: sa.Connection, email: str, *, lock: bool = False) -> Any:
    """The user's row, or a FieldError for ``email`` when nobody has that address."""
    unknown = FieldError("email", "no user has this address", shown(email.strip()))
    try:
        key = normalize_address(email).key
    except InvalidAddress:
        raise unknown from None
    query = sa.select(users).where(users.c.email_key == key)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise unknown
    return row


def _only_owner(connection: sa.Connection, row: Any) -> bool:
    """Whether the user of ``row`` is the one owner left. The owners' rows are locked, so
    that two processes demoting two owners at once cannot both go through."""
    if row.role != Role.OWNER:
        return False
    owners = sa.select(users.c.id).where(users.c.role == Role.OWNER).with_for_update()
    return len(connection.execute(owners).all()) <= 1


def add_user(
    mailer: Mailer,
    email: str,
    role: Role | str,
    password: str,
    can_send: bool | None = None,
    *,
    actor: str,
) -> User:
    """A new account; a FieldError for a bad or taken address, an unknown role, a ``can_send``
    the role contradicts, or a weak password."""
    address = checked_address(email)
    chosen = role_named(role)
    sends = can_send_for(chosen, can_send)
    check_new_password(password, address.email)
    password_hash = hash_password(password)  # before the transaction: it takes a while
    now = mailer.clock()
    taken = FieldError("email", "already has an account", address.email)
    try:
        with write_transaction(mailer.engine) as connection:
            exists = sa.select(users.c.id).where(users.c.email_key == address.key)
            if connection.execute(exists).first() is not None:
                raise taken
            row = connection.execute(
                users.insert()
                .values(
                    email=address.email,
                    email_key=address.key,
                    role=chosen,
                    can_send=sends,
                    password_hash=password_hash,
                    created_at=now,
                    updated_at=now,
                    password_changed_at=now,
                )
                .returning(*users.c)
            ).one()
            detail = {"role": str(chosen), "can_send": sends}
            record(connection, actor, "user.add", address.email, detail, now)
    except sa.exc.IntegrityError:
        raise taken from None  # added by another process since the check
    return _user(row)


def list_users(mailer: Mailer) -> list[User]:
    """Every account, by address."""
    with mailer.engine.connect() as connection:
        rows = connection.execute(sa.select(users).order_by(users.c.email_key)).all()
    return [_user(row) for row in rows]


def find_user(mailer: Mailer, email: str) -> User | None:
    try:
        key = normalize_address(email).key
    except InvalidAddress:
        return None
    with mailer.engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.email_key == key)).first()
    return None if row is None else _user(row)


def remove_user(mailer: Mailer, email: str, actor: str) -> User:
    """Delete the account and with it every session it has (its audit entries stay);
    LastOwner for the only owner."""
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        row = _row_of(connection, email, lock=True)
        if _only_owner(connection, row):
            raise LastOwner(
                f"{row.email} is the only owner and cannot be removed: make another user an "
                "owner first"
            )
        end_sessions_of(connection, row.id)
        connection.execute(users.delete().where(users.c.id == row.id))
        record(connection, actor, "user.remove", row.email, {"role": row.role}, now)
    return _user(row)


def set_password(mailer: Mailer, email: str, new_password: str, actor: str) -> int:
    """Change the password and end every session of the user (a face that changed the
    password of the person using it starts them a new one); how many sessions ended."""
    with mailer.engine.connect() as connection:
        known = _row_of(connection, email)
    check_new_password(new_password, known.email)
    password_hash = hash_password(new_password)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        row = _row_of(connection, email, lock=True)
        connection.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(password_hash=password_hash, password_changed_at=now, updated_at=now)
        )
        ended = end_sessions_of(connection, row.id)
        record(connection, actor, "user.password", row.email, {"sessions_ended": ended}, now)
    return ended


def change_role(
    mailer: Mailer, email: str, role: Role | str, can_send: bool | None, actor: str
) -> User:
    """Give the user another role (and sending right: when None, the role's default, or the
    current one if the role stays); LastOwner when it would leave no owner. It holds from the
    user's next request: sessions read the role each time."""
    chosen = role_named(role)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        row = _row_of(connection, email, lock=True)
        if can_send is None and chosen == row.role:
            can_send = row.can_send
        sends = can_send_for(chosen, can_send)
        if chosen == row.role and sends == row.can_send:
            return _user(row)
        if chosen != Role.OWNER and _only_owner(connection, row):
            raise LastOwner(
                f"{row.email} is the only owner and must stay one: make another user an owner first"
            )
        changed = connection.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(role=chosen, can_send=sends, updated_at=now)
            .returning(*users.c)
        ).one()
        detail = {
            "role": str(chosen),
            "can_send": sends,
            "previous_role": row.role,
            "previous_can_send": row.can_send,
        }
        record(connection, actor, "user.role", row.email, detail, now)
    return _user(changed)


def log_out_everywhere(mailer: Mailer, email: str, actor: str) -> int:
    """End every session of the user; how many there were."""
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        row = _row_of(connection, email)
        ended = end_sessions_of(connection, row.id)
        record(connection, actor, "user.logout", row.email, {"sessions_ended": ended}, now)
    return ended
