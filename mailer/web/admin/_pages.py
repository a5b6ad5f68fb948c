"""Admin pages: the site's templates (``admin/*.html``) with the logged-in principal, the
sections their role may open, and a policy that lets this site's own script run (htmx, a
static file) and fetch from this site, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailer.accounts.roles import Permission
from mailer.web.pages import render
from mailer.web.security import content_security_policy

if TYPE_CHECKING:
    from mailer.accounts.roles import Principal

ADMIN_POLICY = content_security_policy(script_src="'self'", connect_src="'self'")


@dataclass(frozen=True)
class Section:
    key: str
    """Its name in ``t.admin.nav``."""
    path: str
    """Under /admin/ ("" for the dashboard)."""
    permission: Permission


# The sections that exist today, in the order of ``t.admin.nav``; the others come later.
SECTIONS = (
    Section("dashboard", "", Permission.READ),
    Section("campaigns", "campaigns", Permission.READ),
    Section("issues", "issues", Permission.READ),
    Section("imports", "imports", Permission.MANAGE_AUDIENCE),
    Section("lists", "lists", Permission.READ),
    Section("subscribers", "subscribers", Permission.READ),
    Section("suppressions", "suppressions", Permission.READ),
    Section("schedules", "schedules", Permission.READ),
    Section("users", "users", Permission.MANAGE_USERS),
    Section("tokens", "tokens", Permission.MANAGE_USERS),
    Section("audit", "audit", Permission.VIEW_AUDIT),
)


def sections_for(principal: Principal | None) -> list[Section]:
    if principal is None:
        return []
    return [section for section in SECTIONS if principal.can(section.permission)]


def admin_page(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """An admin page: ``template`` with ``principal`` (None on the log-in page) and its nav."""
    return render(
        request,
        template,
        status_code=status_code,
        headers={"content-security-policy": ADMIN_POLICY, "cache-control": "no-store"}
        | dict(headers or {}),
        principal=principal,
        sections=[section.key for section in sections_for(principal)],
        section_paths={section.key: section.path for section in SECTIONS},
        current=context.pop("current", ""),
        **context,
    )


def throttled_page(
    request: Request, principal: Principal | None, retry_after: float
) -> HTMLResponse:
    """429: too many failed log-ins; says in how many minutes to try again."""
    seconds = max(1, int(retry_after))
    return admin_page(
        request,
        "admin/throttled.html",
        principal,
        status_code=429,
        headers={"Retry-After": str(seconds)},
        minutes=-(-seconds // 60),
    )
