"""Signing Event Webhook POSTs as SendGrid does: a P-256 key pair made with ``cryptography``,
the public key shown as SendGrid's settings page shows it (base64 DER), and an ECDSA SHA-256
signature over the timestamp followed by the body."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
TIMESTAMP = "1764950400"


@dataclass
class Signer:
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public_key(self) -> str:
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def signature(self, body: bytes, timestamp: str = TIMESTAMP) -> str:
        signed = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signed).decode("ascii")

    def headers(self, body: bytes, timestamp: str = TIMESTAMP) -> dict[str, str]:
        return {
            "content-type": "application/json",
            SIGNATURE_HEADER: self.signature(body, timestamp),
            TIMESTAMP_HEADER: timestamp,
        }


def post_signed(
    base_url: str, signer: Signer, events: list[Any] | bytes, timeout: float = 30
) -> httpx.Response:
    """POST ``events`` (a list made JSON, or a body as is) signed by ``signer``."""
    body = events if isinstance(events, bytes) else orjson.dumps(events)
    return httpx.post(
        base_url + "/webhooks/sendgrid",
        content=body,
        headers=signer.headers(body),
        timeout=timeout,
    )
