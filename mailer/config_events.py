"""Settings of what SendGrid's events do: ``[events]`` (when repeated temporary failures
suppress an address) and ``[tracking]`` (what is kept of opens and clicks)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# As config.Section (numbers and booleans only here, so no text to check for NUL).
SECTION_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EventSettings(BaseModel):
    model_config = SECTION_CONFIG

    temporary_failures: int = Field(
        3,
        ge=1,
        le=1000,
        description="Messages with a temporary failure (blocked bounce, deferral) within "
        "temporary_failure_days after which the address is suppressed.",
    )
    temporary_failure_days: int = Field(
        30, ge=1, le=3650, description="The window temporary failures are counted in, in days."
    )


class TrackingSettings(BaseModel):
    model_config = SECTION_CONFIG

    individual: bool = Field(
        True,
        description="Keep who opened and clicked; false keeps only each campaign's totals "
        "(open and click events stored without the person).",
    )
    automated_click_seconds: int = Field(
        10,
        ge=0,
        le=3600,
        description="A click this many seconds or fewer after the message was delivered is "
        "counted as automated (a link scanner), not a reader's.",
    )
