"""``[admin]``: how long a login to the admin app lasts, and how many wrong passwords are
allowed before logins are refused for a while."""

from __future__ import annotations

from pydantic import Field

from mailer.config_section import Section


class AdminSettings(Section):
    session_hours: int = Field(
        12,
        ge=1,
        le=24 * 366,
        description="Hours without a request after which a login ends.",
    )
    session_max_days: int = Field(
        7, ge=1, le=366, description="Days after which a login ends however active it is."
    )
    login_attempts_per_account: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Wrong passwords for one account within login_window_minutes after which "
        "its logins are refused until the window ends.",
    )
    login_attempts_per_ip: int = Field(
        30,
        ge=1,
        le=100_000,
        description="Wrong passwords from one IP address within login_window_minutes after "
        "which its logins are refused until the window ends.",
    )
    login_window_minutes: int = Field(
        15, ge=1, le=24 * 60, description="The window failed logins are counted in, in minutes."
    )
    max_upload_mib: int = Field(
        100,
        ge=1,
        le=100_000,
        description="The largest subscriber CSV the admin app or the "
        "API takes as an upload, in MiB (413 past it).",
    )
