"""Form tokens that need no cookie, for a form other sites may show in a frame (the signup).

The site-wide CSRF check (``mailer.web.csrf``) pairs a form's token with a cookie; a browser
withholds this site's SameSite cookies from a page framed by another site, so a framed form
could never be sent. The signup takes no action on anyone's behalf that a cookie would
authorize (anyone may send it, and a double opt-in list waits for the mailbox's owner), so
what its token must stop is a page elsewhere making its visitors' browsers send signups,
which would spread a flood over their IP addresses and past the per-IP limit. The token is
a keyed hash of when the form was served and the IP address it was served to: another site
cannot read one from a visitor's browser, and one it fetched itself is worth nothing from
any other address. It expires after a day.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

LIFETIME_SECONDS = 24 * 3600
# A server whose clock is a little behind the one that served the form still takes it.
CLOCK_SKEW_SECONDS = 300
_CONTEXT = b"mailer form token\n"


def _mac(key: bytes, purpose: str, issued: int, client: str) -> str:
    message = _CONTEXT + f"{purpose}\n{issued}\n{client}".encode("utf-8", "surrogatepass")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def form_token(key: bytes, purpose: str, client: str, now: datetime) -> str:
    """A token for a form about ``purpose`` served now to the IP address ``client``."""
    issued = int(now.timestamp())
    return f"{issued}.{_mac(key, purpose, issued, client)}"


def form_token_valid(key: bytes, purpose: str, token: str, client: str, now: datetime) -> bool:
    issued_text, dot, mac = token.partition(".")
    if not dot or not issued_text.isdecimal() or not issued_text.isascii() or len(token) > 100:
        return False
    issued = int(issued_text)
    age = int(now.timestamp()) - issued
    if not -CLOCK_SKEW_SECONDS <= age <= LIFETIME_SECONDS:
        return False
    expected = _mac(key, purpose, issued, client)
    return hmac.compare_digest(mac.encode("utf-8", "replace"), expected.encode("ascii"))
