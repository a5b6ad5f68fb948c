"""Redirects to a ``next`` URL only under ``[newsletter] base_url``: never to another site.

Anything a browser might read differently from this code is refused rather than repaired:
backslashes (browsers read them as slashes), spaces and control characters (browsers drop
tabs and newlines), non-ASCII, dot segments and empty segments, also when percent-encoded.
The answer is rebuilt on base_url's own scheme and host, so nothing in ``next`` can name
another host, user or port.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse

MAX_LENGTH = 2000
_DECODINGS = 4  # "%25252e" is "." after three; a browser decodes once at most


def _printable_ascii(text: str) -> bool:
    return all(0x21 <= ord(char) <= 0x7E for char in text)


def _decoded(text: str) -> str:
    for _ in range(_DECODINGS):
        text = unquote(text, errors="strict") if "%" in text else text
    return text


def safe_next(base_url: str, candidate: str | None) -> str | None:
    """The absolute URL of ``candidate`` (an absolute URL, or a path from the root such as
    ``/news/archive``) when it is a page under ``base_url``; None when it is anything else."""
    if not candidate or len(candidate) > MAX_LENGTH or not _printable_ascii(candidate):
        return None
    try:
        decoded = _decoded(candidate)
        target = urlsplit(candidate)
        # Checked as written and decoded, with no resolving: "/news/%2e%2e/admin" is "/admin"
        # to a browser, and "/a//b" keeps its empty segment in a browser.
        parts = _decoded(target.path).split("/")
        base = urlsplit(base_url)
        absolute = bool(target.scheme or target.netloc)
        same_place = not absolute or (
            target.scheme.lower() == base.scheme.lower()
            and target.username is None
            and target.password is None
            and (target.hostname or "") == (base.hostname or "").lower()
            and target.port == base.port
        )
    except (ValueError, UnicodeDecodeError):
        return None
    if "\\" in decoded or not _printable_ascii(decoded) or decoded.startswith("//"):
        return None  # browsers read "///host" as a host, where Python sees a path
    if absolute and not candidate.lower().startswith(f"{target.scheme.lower()}://"):
        return None  # "https:host" is a path to Python, a host to a browser on its own
    if not same_place or not target.path.startswith("/"):
        return None  # another site, or a relative path (read against whichever page)
    if any(part in (".", "..") for part in parts) or "" in parts[1:-1]:
        return None
    prefix = base.path.rstrip("/")
    if target.path != prefix and not target.path.startswith(prefix + "/"):
        return None
    query = f"?{target.query}" if target.query else ""
    fragment = f"#{target.fragment}" if target.fragment else ""
    return f"{base.scheme}://{base.netloc}{target.path}{query}{fragment}"


def redirect_to_next(request: Request, candidate: str | None, default: str) -> RedirectResponse:
    """303 to ``candidate`` when it is safe (see ``safe_next``), else to ``default``."""
    base_url: str = request.app.state.mailer.settings.newsletter.base_url
    return RedirectResponse(safe_next(base_url, candidate) or default, status_code=303)
