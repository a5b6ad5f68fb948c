"""API tokens: a secret shown once and never stored (only its hash is), refused once revoked,
with names held to a short safe alphabet."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailer.accounts.roles import Role
from mailer.accounts.tokens import create_token, list_tokens, revoke_token, token_principal
from mailer.app import Mailer
from mailer.db.tables import api_tokens, metadata
from mailer.errors import FieldError
from tests.account_helpers import clock, mailer
from tests.service_helpers import MovingClock

__all__ = ["clock", "mailer"]  # fixtures


def _database_dump(mailer: Mailer) -> str:
    """Every row of every table, as text."""
    lines: list[str] = []
    with mailer.engine.connect() as connection:
        for table in metadata.sorted_tables:
            lines += [repr(tuple(row)) for row in connection.execute(sa.select(table))]
    return "\n".join(lines)


def test_a_secret_is_shown_once_and_only_its_hash_is_stored(mailer: Mailer) -> None:
    token, secret = create_token(mailer, "deploy", "editor", True, actor="ann@example.com")
    assert re.fullmatch(r"mailer_[A-Za-z0-9_-]{43}", secret)
    assert (token.name, token.role, token.can_send, token.created_by) == (
        "deploy",
        Role.EDITOR,
        True,
        "ann@example.com",
    )
    assert "secret" not in str(token) and secret not in str(list_tokens(mailer))
    dump = _database_dump(mailer)
    assert hashlib.sha256(secret.encode()).hexdigest() in dump
    assert secret.removeprefix("mailer_") not in dump
    url = mailer.engine.url
    mailer.close()
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = Path(url.database).parent.glob("mailer.db*")
        assert not any(
            secret.removeprefix("mailer_").encode() in path.read_bytes() for path in files
        )


def test_a_secret_gives_its_tokens_principal_until_revoked(mailer: Mailer) -> None:
    token, secret = create_token(mailer, "ci", "admin", actor="cli")
    principal = token_principal(mailer, secret)
    assert principal is not None
    assert (principal.kind, principal.name, principal.role, principal.can_send) == (
        "token",
        "ci",
        Role.ADMIN,
        True,
    )
    assert (principal.token_id, principal.user_id, principal.actor) == (token.id, None, "token:ci")
    revoked = revoke_token(mailer, "ci", "cli")
    assert revoked.revoked_at == mailer.clock()
    assert token_principal(mailer, secret) is None
    assert [listed.revoked_at for listed in list_tokens(mailer)] == [mailer.clock()]
    with pytest.raises(FieldError, match=r"^name 'ci': is revoked already$"):
        revoke_token(mailer, "ci", "cli")
    with pytest.raises(FieldError, match=r"^name 'ci': is taken by another token"):
        create_token(mailer, "ci", "admin", actor="cli")


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "mailer_",
        "mailer_" + "A" * 43,
        "mailer_" + "A" * 44,
        "x" * 50,
        "mailer_" + "é" * 43,
        "mailer_" + "A" * 10_000,
        "Bearer mailer_" + "A" * 43,
    ],
)
def test_an_unknown_or_malformed_secret_is_no_one(mailer: Mailer, forged: str) -> None:
    create_token(mailer, "deploy", "viewer", actor="cli")
    assert token_principal(mailer, forged) is None


def test_a_secret_changed_by_one_character_is_no_one(mailer: Mailer) -> None:
    _, secret = create_token(mailer, "deploy", "viewer", actor="cli")
    assert token_principal(mailer, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_use_is_written_at_most_once_a_minute(mailer: Mailer, clock: MovingClock) -> None:
    _, secret = create_token(mailer, "deploy", "viewer", actor="cli")
    assert list_tokens(mailer)[0].last_used_at is None
    token_principal(mailer, secret)
    first_use = clock.now
    clock.advance(seconds=59)
    token_principal(mailer, secret)
    assert list_tokens(mailer)[0].last_used_at == first_use
    clock.advance(seconds=1)
    token_principal(mailer, secret)
    assert list_tokens(mailer)[0].last_used_at == clock.now


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "..",
        "../etc",
        ".hidden",
        "a\nb",
        "deploy\n",
        "ünïcode",
        "Deploy",
        "-x",
        "_x",
        "a b",
        "a" * 65,
        "x\x00",
        "token:x",
    ],
)
def test_a_name_outside_the_rule_is_refused_with_the_rule(mailer: Mailer, name: str) -> None:
    with pytest.raises(FieldError) as refused:
        create_token(mailer, name, "viewer", actor="cli")
    assert refused.value.field == "name"
    assert refused.value.problem == "use 1-64 of a-z 0-9 _ . -, starting with a letter or a digit"
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200
    assert list_tokens(mailer) == []


@pytest.mark.parametrize("name", ["deploy", "0", "ci-2.prod_x", "a" * 64, "a..b"])
def test_a_name_inside_the_rule_is_taken(mailer: Mailer, name: str) -> None:
    create_token(mailer, name, "viewer", actor="cli")
    assert [token.name for token in list_tokens(mailer)] == [name]


def test_revoking_an_unknown_token_names_it(mailer: Mailer) -> None:
    with pytest.raises(FieldError, match=r"^name 'nope': no token has this name$"):
        revoke_token(mailer, "nope", "cli")
    for bad in ["../x", "x\x00"]:
        with pytest.raises(FieldError, match=r"^name '.*': use 1-64"):
            revoke_token(mailer, bad, "cli")


def test_only_hashes_are_stored_in_the_token_table(mailer: Mailer) -> None:
    secrets = [create_token(mailer, f"t{index}", "viewer", actor="cli")[1] for index in range(3)]
    with mailer.engine.connect() as connection:
        hashes = set(connection.execute(sa.select(api_tokens.c.token_hash)).scalars())
    assert hashes == {hashlib.sha256(secret.encode()).hexdigest() for secret in secrets}
