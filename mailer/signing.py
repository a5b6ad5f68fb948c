"""Signed, tamper-proof links (unsubscribe, preferences) and the key that signs them.

The key comes from the environment variable the config names; when that is unset, a random key
is created once under the var folder (mode 0600) so links stay valid across runs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from mailer.errors import ConfigError

KEY_FILE_NAME = "secret_key"
# A key file shorter than this is refused; a new one has 43 characters (32 random bytes).
KEY_FILE_MIN_BYTES = 32
SIGNATURE_BYTES = 16


def load_secret_key(
    env_name: str, var_dir: Path, environ: Mapping[str, str] | None = None
) -> bytes:
    """The signing key: from ``$env_name`` when set, else ``<var>/secret_key``, made once."""
    environ = os.environ if environ is None else environ
    from_env = environ.get(env_name, "")
    if from_env:
        if len(from_env) < 16:
            raise ConfigError(f"${env_name} is too short: use at least 16 random characters")
        return from_env.encode("utf-8")
    key_file = var_dir / KEY_FILE_NAME
    try:
        if not key_file.exists():
            _create_key_file(key_file)
        return _read_key_file(key_file)
    except OSError as exc:
        raise ConfigError(
            f"cannot read or create the signing key {key_file}: {exc.strerror or exc}"
        ) from None


def _create_key_file(key_file: Path) -> None:
    """Write a new key where no process can see it half-written: a private temporary file,
    flushed to disk, then linked into place. ``link`` fails if another process won the race,
    and then its key is the one everybody uses."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".secret_key.", dir=key_file.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(KEY_FILE_MIN_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, key_file)
            _sync_folder(key_file.parent)
    finally:
        os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_key_file(key_file: Path) -> bytes:
    """The key file's key, refused when it could not protect anything: too short (an empty
    key makes every link forgeable) or readable by other users of the machine."""
    mode = key_file.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"{key_file} can be read by other users (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {key_file}`"
        )
    key = key_file.read_bytes().strip()
    if len(key) < KEY_FILE_MIN_BYTES:
        raise ConfigError(
            f"{key_file} holds a key of {len(key)} bytes, fewer than {KEY_FILE_MIN_BYTES}: "
            "delete it to have a new one made (links already sent stop working), or put "
            "a longer random key in it"
        )
    return key


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _b64_bytes(data: bytes) -> bytes:
    # base64.urlsafe_b64encode without its padding or its Python-level wrapping: this runs
    # three times a recipient.
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


def _b64(data: bytes) -> str:
    return _b64_bytes(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs payloads for a fixed set of purposes with one key: ``sign`` gives one token per
    purpose for the same payload, which is encoded once (a send signs two links for every
    recipient). Each purpose's keyed hash, fed its ``purpose:`` prefix, is made here once and
    copied for each token, which spares BLAKE2b the work of taking in the key every time.

    ``bound`` is signed but not carried: a token bound to a subscriber's address key verifies
    only while the subscriber it names still has that address, and shows nothing of it."""

    def __init__(self, key: bytes, purposes: tuple[str, ...]) -> None:
        mac_key = _mac_key(key)
        self._states = []
        for purpose in purposes:
            state = hashlib.blake2b(key=mac_key, digest_size=SIGNATURE_BYTES)
            state.update(f"{purpose}:".encode("ascii"))
            self._states.append(state)

    def sign(self, payload: str, bound: str = "") -> list[str]:
        body = _b64_bytes(payload.encode("utf-8"))
        text = body.decode()
        hidden = b"\n" + bound.encode("utf-8") if bound else b""
        tokens = []
        for state in self._states:
            mac = state.copy()
            mac.update(body)
            if hidden:
                mac.update(hidden)
            tokens.append(f"{text}.{_b64(mac.digest())}")
        return tokens


def sign(key: bytes, purpose: str, payload: str, bound: str = "") -> str:
    """A URL-safe token carrying ``payload``, valid only for ``purpose`` (and ``bound``)."""
    return Signer(key, (purpose,)).sign(payload, bound)[0]


def peek(signed: str) -> str | None:
    """The payload a token carries, NOT verified: only to find what it must be bound to."""
    body, dot, _ = signed.partition(".")
    if not dot or not _is_b64(body):
        return None
    try:
        return _unb64(body).decode("utf-8")
    except (ValueError, UnicodeError):
        return None


def verify(key: bytes, purpose: str, signed: str, bound: str = "") -> str | None:
    """The payload if the token is genuine for ``purpose`` (and ``bound``); None otherwise.
    Only the exact text that was signed verifies: base64 that decodes to the same bytes
    (padding bits, stray characters) is another token."""
    body, dot, signature = signed.partition(".")
    if not dot or not _is_b64(body) or not _is_b64(signature):
        return None
    try:
        message = f"{purpose}:{body}".encode("ascii")
        if bound:
            message += b"\n" + bound.encode("utf-8")
        # Keyed BLAKE2b is a MAC in its own right (no HMAC construction needed): about three
        # times faster than HMAC-SHA256, which matters at two links per recipient.
        expected = hashlib.blake2b(message, key=_mac_key(key), digest_size=SIGNATURE_BYTES)
        if not hmac.compare_digest(signature.encode("ascii"), _b64_bytes(expected.digest())):
            return None
        return _unb64(body).decode("utf-8")
    except (ValueError, UnicodeError):
        return None


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _is_b64(text: str) -> bool:
    return bool(text) and len(text) % 4 != 1 and set(text) <= _B64_ALPHABET


@lru_cache(maxsize=8)
def _mac_key(key: bytes) -> bytes:
    """BLAKE2b takes keys of up to 64 bytes; a longer secret is hashed down to 64."""
    return key if len(key) <= hashlib.blake2b.MAX_KEY_SIZE else hashlib.blake2b(key).digest()
