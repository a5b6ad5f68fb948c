"""The tables of SendGrid's Event Webhook: the events, the links clicked, and each
campaign's events counted by kind and hour."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.metadata import metadata
from mailer.db.types import BigId, Json

# Each link clicked, stored once: a click event refers to its URL by id.
event_urls = sa.Table(
    "event_urls",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # sha256 of the URL: what makes it unique (an index on the URL itself would refuse long
    # ones on PostgreSQL).
    sa.Column("url_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=False),
)

# What SendGrid's Event Webhook told of each message, one row per event (deduplicated on
# SendGrid's sg_event_id). Kept small: a million-recipient campaign makes millions of rows.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("sg_event_id", sa.String(100), nullable=False, unique=True),
    # The event's name as sent ("delivered", "bounce", ...; names not known here are kept).
    sa.Column("kind", sa.String(50), nullable=False),
    # When it happened, in seconds since 1970 (SendGrid's own timestamp).
    sa.Column("occurred_at", sa.BigInteger, nullable=False),
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True
    ),
    # Erasing a person erases their events (also done explicitly by forget_subscriber).
    sa.Column(
        "subscriber_id", BigId, sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=True
    ),
    # The request that carried the message (batches.id; no foreign key, as in deliveries).
    sa.Column("batch_id", BigId, nullable=True),
    # Only when no subscriber is known for the event: the address key (subscribers.email_key
    # form), so a bounce or a complaint can still suppress the address. Personal data: erased
    # with the person of that address.
    sa.Column("email_key", sa.String(320), nullable=True),
    # SendGrid's reason (bounce, dropped) or the receiving server's response (delivered,
    # deferred).
    sa.Column("reason", sa.Text, nullable=True),
    # A bounce's enhanced status code ("5.1.1"), its type ("bounce" or "blocked") and
    # SendGrid's bounce_classification.
    sa.Column("status", sa.String(32), nullable=True),
    sa.Column("bounce_type", sa.String(16), nullable=True),
    sa.Column("classification", sa.String(64), nullable=True),
    sa.Column("url_id", BigId, sa.ForeignKey("event_urls.id"), nullable=True),
    # An open made by a machine (sg_machine_open: Apple Mail Privacy Protection), or a click
    # that looks automated.
    sa.Column("machine", sa.Boolean, nullable=True),
    # The unsubscribe group of group_unsubscribe and group_resubscribe.
    sa.Column("asm_group_id", sa.Integer, nullable=True),
    # Only for event names not known here: their other fields (without the address).
    sa.Column("extra", Json, nullable=True),
    sa.Index("ix_events_campaign_id_kind", "campaign_id", "kind"),
    sa.Index("ix_events_subscriber_id_occurred_at", "subscriber_id", "occurred_at"),
    sa.Index(
        "ix_events_email_key",
        "email_key",
        sqlite_where=sa.text("email_key IS NOT NULL"),
        postgresql_where=sa.text("email_key IS NOT NULL"),
    ),
)

# The clicks of a campaign by link and person, read from the index alone: a report's
# per-link unique clickers without reading every event of the campaign.
events_clicks = sa.Index(
    "ix_events_clicks",
    events.c.campaign_id,
    events.c.url_id,
    events.c.subscriber_id,
    events.c.machine,
    sqlite_where=sa.text("kind = 'click'"),
    postgresql_where=sa.text("kind = 'click'"),
)

# Each campaign's events counted by kind and hour as they are stored (migration 0014), so a
# report's totals and timeline read a few hundred rows, not millions of events. An erased
# person's events leave their counts here: the counts name no one.
event_tallies = sa.Table(
    "event_tallies",
    metadata,
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(50), primary_key=True),
    # The hour's start, in seconds since 1970 (UTC).
    sa.Column("hour", sa.BigInteger, primary_key=True),
    sa.Column("events", sa.BigInteger, nullable=False),
    # Opens SendGrid marked sg_machine_open and clicks judged automated.
    sa.Column("machine_events", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
