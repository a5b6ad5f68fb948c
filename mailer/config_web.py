"""``[web]``: the settings of ``mailer serve`` (links' signing key, proxies, consent records,
the fast paths' switches, SendGrid's Event Webhook key)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from mailer.config_section import Section
from mailer.config_values import check_proxy_address

ProxyAddress = Annotated[str, AfterValidator(check_proxy_address)]


class WebSettings(Section):
    secret_key_env: str = Field(
        "MAILER_SECRET_KEY",
        description="Env var holding the key that signs unsubscribe links; "
        "when unset, a random key is created once under <var>/secret_key.",
    )
    forwarded_allow_ips: list[ProxyAddress] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed; none when empty, any with '*'.",
    )
    record_ip: bool = Field(
        False,
        description="Keep the IP address with each consent record (signup, confirm, "
        "unsubscribe); off by default, since an IP address is personal data.",
    )
    welcome_email: bool = Field(
        False,
        description="Send a welcome mail (templates _welcome.*) once a signup is confirmed.",
    )
    group_commit: bool = Field(
        True,
        description="Store one-click unsubscribes, and signups, that arrive together in one "
        "transaction each, and send the signups' confirmation mails together; false gives each "
        "request its own (slower under a burst; for comparison).",
    )
    archive_cache: bool = Field(
        True,
        description="Keep the archive's latest issue pages ready in each server's memory "
        "(which send is shown is still read for every request); false makes every page "
        "afresh (slower; for comparison).",
    )
    sendgrid_webhook_public_key: str = Field(
        "",
        description="The Event Webhook's verification key as SendGrid's settings page shows "
        "it (base64); POST /webhooks/sendgrid accepts only events it signed.",
    )
    sendgrid_webhook_public_key_env: str = Field(
        "SENDGRID_WEBHOOK_PUBLIC_KEY",
        description="Env var that may hold the verification key instead; when set and not "
        "empty, it wins over sendgrid_webhook_public_key.",
    )
    sendgrid_webhook_unsigned: bool = Field(
        False,
        description="Accept unsigned events when no verification key is set (anyone could "
        "post them; a warning at every start); otherwise POST /webhooks/sendgrid answers "
        "403 until a key is set.",
    )
