"""The bodies ``/subscribers`` takes and gives: a subscriber found by a search, one in full
(memberships, attributes, suppression, deliveries, events), and what adding, bulk adding,
editing, unsubscribing and resubscribing take.

A bulk add's rows are checked by the core, row by row, so that a bad row is reported in the
answer with its index and field and the others are added: their schema says only their
shape (text, at most so long), not the rules an import applies.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mailer.actions.subscribers import BULK_MAX, REASON_MAX, RowOutcome, SubscriberView
from mailer.api.lists import NAME_PATTERN
from mailer.api.suppressions import Email, SuppressionOut
from mailer.api.text import ONE_LINE, one_line
from mailer.audience.attributes import NAME_MAX
from mailer.audience.subscriber_changes import ATTRIBUTES_MAX, VALUE_MAX
from mailer.audience.subscriber_search import SubscriberSummary

INPUT = ConfigDict(extra="forbid", strict=True)
Status = Literal["unconfirmed", "confirmed", "unsubscribed"]
ListName = Annotated[str, Field(pattern=NAME_PATTERN, description="A list's name.")]
Name = Annotated[
    str,
    Field(
        max_length=NAME_MAX,
        description="The subscriber's name (runs of spaces become one).",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]
Timezone = Annotated[
    str,
    Field(
        max_length=64,
        description='An IANA time zone ("Asia/Shanghai"); empty for none.',
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]
# The values are checked by the core, which names the attribute that is wrong.
Attributes = Annotated[
    dict[str, Any],
    Field(
        max_length=ATTRIBUTES_MAX,
        description="Attribute name → text (`tags`: a list of text, or `ai;policy`). Names "
        "are letters, digits, `_ . -` from a letter or `_`, case-insensitive.",
        json_schema_extra={
            "additionalProperties": {
                "anyOf": [
                    {"type": "string", "maxLength": VALUE_MAX},
                    {"type": "array", "items": {"type": "string"}},
                ]
            }
        },
    ),
]
Reason = Annotated[
    str,
    Field(
        max_length=REASON_MAX,
        description="Why (kept in the audit log).",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]


class SubscriberSummaryOut(BaseModel):
    id: int
    email: str
    name: str
    created_at: datetime
    status: Status | None = Field(
        None, description="The status on the list searched; absent without a list."
    )

    @classmethod
    def of(cls, found: SubscriberSummary) -> SubscriberSummaryOut:
        return cls(
            id=found.id,
            email=found.email,
            name=found.name,
            created_at=found.created_at,
            status=found.status,
        )


class MembershipOut(BaseModel):
    list: str
    status: Status
    source: str = Field(description="How they joined: `import`, `admin`, `signup form`...")
    created_at: datetime
    updated_at: datetime


class DeliveryOut(BaseModel):
    campaign: int
    issue: int
    status: str = Field(description="pending, in_flight, sent, failed, skipped or in_doubt.")
    outcome: str | None
    error: str | None
    updated_at: datetime


class EventOut(BaseModel):
    kind: str = Field(description="SendGrid's event: delivered, open, click, bounce...")
    at: datetime
    campaign: int | None
    url: str | None = Field(description="The link clicked, for a click.")


class SubscriberOut(BaseModel):
    email: str
    name: str
    timezone: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    lists: list[MembershipOut] = Field(description="Every list they are on, by name.")
    suppression: SuppressionOut | None = Field(description="Never mailed while set.")
    deliveries: list[DeliveryOut] = Field(description="The latest 50 sends, newest first.")
    events: list[EventOut] = Field(description="The latest 50 events, newest first.")
    confirmation: str | None = Field(
        None,
        description="After an add to a double opt-in list: `mailed` (a link to confirm went "
        "out) or `not sent: <why>` (the add stands; adding them again mails it).",
    )

    @classmethod
    def of(cls, view: SubscriberView) -> SubscriberOut:
        return cls.model_validate(view.as_json())


class SubscriberIn(BaseModel):
    model_config = INPUT
    email: Email
    lists: list[ListName] = Field(min_length=1, max_length=100, description="The lists to join.")
    name: Name = ""
    timezone: Timezone = ""
    attributes: Attributes | None = None
    confirmed: bool = Field(
        False, description="They agreed already: on a double opt-in list, no confirmation."
    )


class SubscriberPatch(BaseModel):
    """The fields to change; those left out (or null) stay. `attributes` are merged: each
    named one takes the value given, and an empty value removes it."""

    model_config = INPUT
    name: Name | None = None
    timezone: Timezone | None = None
    attributes: Attributes | None = None


# A row's attributes as any object: what they hold is checked with the row, and a row
# holding a wrong one is reported rejected rather than the whole request refused.
RowAttributes = Annotated[
    dict[str, Any],
    Field(
        max_length=ATTRIBUTES_MAX,
        description="As a subscriber's `attributes`; a row with a wrong one is rejected.",
    ),
]


class BulkRowIn(BaseModel):
    model_config = INPUT
    email: Annotated[str, Field(max_length=1000)]
    name: Annotated[str, Field(max_length=1000)] = ""
    timezone: Annotated[str, Field(max_length=200)] = ""
    attributes: RowAttributes | None = None


class BulkIn(BaseModel):
    model_config = INPUT
    list: ListName
    confirmed: bool = False
    rows: builtins.list[BulkRowIn] = Field(
        min_length=1, max_length=BULK_MAX, description=f"1 to {BULK_MAX:,} subscribers."
    )


class RowOutcomeOut(BaseModel):
    index: int = Field(description="The row's position in `rows`, from 0.")
    email: str
    outcome: Literal["imported", "updated", "unchanged", "suppressed", "unsubscribed", "rejected"]
    field: str | None = Field(description="For a rejected row, the field that is wrong.")
    detail: str
    confirmation: str | None = Field(
        None,
        description="On a double opt-in list: `mailed` (a link to confirm went out) or "
        "`not sent: <why>`; null when none was due.",
    )

    @classmethod
    def of(cls, outcome: RowOutcome) -> RowOutcomeOut:
        return cls.model_validate(outcome.as_json())


class BulkOut(BaseModel):
    list: str
    counts: dict[str, int] = Field(description="Rows by outcome.")
    rows: builtins.list[RowOutcomeOut] = Field(description="One per row, in order.")


class UnsubscribeIn(BaseModel):
    model_config = INPUT
    list: ListName | None = Field(
        None, description="The list to leave; null or absent: every list (and suppressed)."
    )
    reason: Reason = ""


class Unsubscribed(BaseModel):
    email: str
    changed: list[str] = Field(description="The lists they were unsubscribed from now.")


class ResubscribeIn(BaseModel):
    model_config = INPUT
    list: ListName
    reason: Annotated[Reason, Field(min_length=1)]
    confirmed: bool = Field(
        False, description="On a double opt-in list, they confirmed again (else unconfirmed)."
    )
