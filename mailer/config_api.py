"""``[api]``: the settings of the REST API under ``/api/v1`` (served by ``mailer serve``)."""

from __future__ import annotations

from pydantic import Field

from mailer.config_section import Section


class ApiSettings(Section):
    requests_per_minute: int = Field(
        600,
        ge=1,
        le=1_000_000,
        description="Requests one API token may make per minute, counted over every "
        "`mailer serve` process; past it the API answers 429 with Retry-After.",
    )
    max_body_kib: int = Field(
        1024,
        ge=1,
        le=1024 * 1024,
        description="Largest request body the API reads, in KiB; a larger one is refused "
        "with 413.",
    )
