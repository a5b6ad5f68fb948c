"""The emulator's Signed Event Webhook key: ECDSA on P-256, as SendGrid uses.

SendGrid signs the value of X-Twilio-Email-Event-Webhook-Timestamp followed by the raw body
with ECDSA-SHA256 and sends the DER signature in base64; its settings page shows the public
key as base64 DER (SubjectPublicKeyInfo), which is what a receiver is configured with.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailer.errors import MailerError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass(frozen=True)
class WebhookKey:
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> WebhookKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_file(cls, path: Path) -> WebhookKey:
        """The key kept in ``path`` (PEM), made and written there first if there is none, so
        that a receiver configured once stays configured across restarts."""
        if not path.exists():
            return cls._written_to(path)
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise MailerError(f"{path}: not a readable PEM private key ({exc})") from None
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
            loaded.curve, ec.SECP256R1
        ):
            raise MailerError(f"{path}: the event webhook key must be an ECDSA P-256 key")
        return cls(loaded)

    @classmethod
    def _written_to(cls, path: Path) -> WebhookKey:
        key = cls.generate()
        pem = key.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Readable by its owner only: whoever holds it can forge events.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(pem)
        except OSError as exc:
            raise MailerError(f"{path}: cannot write the event webhook key ({exc})") from None
        return key

    def public_base64(self) -> str:
        """The public key as SendGrid's settings page shows it."""
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        stamp = str(timestamp)
        signature = self.private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: stamp,
        }
