"""Signed, tamper-proof links (unsubscribe, preferences) and the key that signs them.

The key comes from the environment variable the config names; when that is unset, a random key
is created once under the var folder (mode 0600) so links stay valid across runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from mailer.errors import ConfigError

KEY_FILE_NAME = "secret_key"
SIGNATURE_BYTES = 16


def load_secret_key(
    env_name: str, var_dir: Path, environ: Mapping[str, str] | None = None
) -> bytes:
    environ = os.environ if environ is None else environ
    from_env = environ.get(env_name, "")
    if from_env:
        if len(from_env) < 16:
            raise ConfigError(f"${env_name} is too short: use at least 16 random characters")
        return from_env.encode("utf-8")
    key_file = var_dir / KEY_FILE_NAME
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32))
    return key_file.read_text(encoding="ascii").strip().encode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, purpose: str, payload: str) -> str:
    """A URL-safe token carrying ``payload``, valid only for ``purpose``."""
    body = _b64(payload.encode("utf-8"))
    mac = hmac.new(key, f"{purpose}:{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac[:SIGNATURE_BYTES])}"


def verify(key: bytes, purpose: str, signed: str) -> str | None:
    """The payload if the token is genuine for ``purpose``; None otherwise."""
    body, _, signature = signed.partition(".")
    try:
        expected = hmac.new(key, f"{purpose}:{body}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(signature), expected[:SIGNATURE_BYTES]):
            return None
        return _unb64(body).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
