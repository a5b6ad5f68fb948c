"""SendGrid's Signed Event Webhook: an ECDSA (P-256, SHA-256) signature over the
X-Twilio-Email-Event-Webhook-Timestamp value followed by the body, checked with the
``sendgrid`` package's own helper and the public key SendGrid's settings page shows
(base64 DER, no PEM lines).

No window is put on the timestamp: a batch posted again stores nothing new (events are
unique by sg_event_id), and SendGrid does not say whether its retries, which go on for 24
hours, are signed anew; a window could refuse a genuine retry and lose its events.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from mailer.config import WebSettings
from mailer.errors import ConfigError

SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP
# A DER ECDSA P-256 signature is at most 72 bytes (96 in base64); far longer is not one.
SIGNATURE_TEXT_MAX = 200
TIMESTAMP_TEXT_MAX = 20


def configured_key(web: WebSettings, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The public key text and the setting it came from: the environment variable named by
    ``sendgrid_webhook_public_key_env`` when it is set and not empty, else
    ``sendgrid_webhook_public_key``; None when neither holds a key."""
    variable = web.sendgrid_webhook_public_key_env
    from_environment = environ.get(variable, "").strip() if variable else ""
    if from_environment:
        origin = f"environment variable {variable} (named by web.sendgrid_webhook_public_key_env)"
        return from_environment, origin
    if web.sendgrid_webhook_public_key.strip():
        return web.sendgrid_webhook_public_key.strip(), "web.sendgrid_webhook_public_key"
    return None


def load_verifier(web: WebSettings, environ: Mapping[str, str]) -> EventWebhook | None:
    """The helper holding the configured key (None: no key configured); a key that is not
    a base64 P-256 public key is a ConfigError naming where it came from."""
    found = configured_key(web, environ)
    if found is None:
        return None
    text, origin = found
    try:
        verifier = EventWebhook(text)
    except (ValueError, TypeError, binascii.Error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(
            f"{origin}: not a public key as SendGrid's Event Webhook settings show it "
            f"(base64, without -----BEGIN PUBLIC KEY----- lines): {reason}"
        ) from None
    key = verifier.public_key
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ConfigError(f"{origin}: not an ECDSA P-256 public key (SendGrid signs with one)")
    return verifier


def signature_valid(verifier: EventWebhook, body: bytes, signature: str, timestamp: str) -> bool:
    """Whether ``signature`` (base64) signs ``timestamp`` followed by ``body``, exactly as
    received. The helper takes the body as text and encodes it as UTF-8, which gives back
    the bytes received for every UTF-8 body (all SendGrid sends); a body that is not UTF-8
    is checked over its bytes with the helper's key and the same algorithm, so that a
    signed one is answered as malformed, not as forged."""
    if not (0 < len(signature) <= SIGNATURE_TEXT_MAX and 0 < len(timestamp) <= TIMESTAMP_TEXT_MAX):
        return False
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return _bytes_signed(verifier, body, signature, timestamp)
    try:
        return bool(verifier.verify_signature(payload, signature, timestamp))
    except (InvalidSignature, ValueError, binascii.Error):  # not base64, not DER
        return False


def _bytes_signed(verifier: EventWebhook, body: bytes, signature: str, timestamp: str) -> bool:
    try:
        verifier.public_key.verify(
            base64.b64decode(signature), timestamp.encode("ascii") + body, ec.ECDSA(SHA256())
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
