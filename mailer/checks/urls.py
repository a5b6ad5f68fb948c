"""What is wrong with a link or image address in an email, if anything."""

from __future__ import annotations

from urllib.parse import urlsplit

from mailer.checks.findings import Level
from mailer.render.tokens import TOKEN_PATTERN

SAFE_SCHEMES = {"https", "http", "mailto", "tel"}
UNSAFE_SCHEMES = {"javascript", "data", "file", "vbscript"}


def link_problem(href: str, *, image: bool = False) -> tuple[Level, str] | None:
    what = "image address" if image else "link"
    target = href.strip()
    if TOKEN_PATTERN.fullmatch(target):
        return None  # filled per recipient with an absolute URL
    if not target or target == "#":
        return "error", f"empty {what} {href!r}"
    if any(ch.isspace() for ch in target):
        return "error", f"{what} {href!r} contains white space"
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if not scheme:
        return "error", (
            f"relative {what} {href!r}: mail has no page to be relative to; "
            "use an absolute https:// URL"
        )
    if scheme in UNSAFE_SCHEMES or scheme not in SAFE_SCHEMES:
        return "error", f"{what} {href!r} uses the {scheme!r} scheme, which mail clients block"
    if scheme in ("http", "https") and not parts.hostname:
        return "error", f"{what} {href!r} has no host name"
    if image and scheme not in ("http", "https"):
        return "error", f"{what} {href!r} must be an http(s) URL"
    if scheme == "http":
        return "warning", f"{what} {href!r} is not https; some clients warn about it"
    return None
