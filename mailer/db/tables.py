"""The tables, in SQLAlchemy Core. Migrations in ``migrations/versions`` create the same."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.account_tables import api_tokens as api_tokens
from mailer.db.account_tables import audit_log as audit_log
from mailer.db.account_tables import sessions as sessions
from mailer.db.account_tables import users as users
from mailer.db.event_tables import event_tallies as event_tallies
from mailer.db.event_tables import event_urls as event_urls
from mailer.db.event_tables import events as events
from mailer.db.import_tables import imports as imports
from mailer.db.metadata import metadata as metadata
from mailer.db.types import BigId, Json, UtcDateTime
from mailer.db.worker_tables import workers as workers

MEMBERSHIP_STATUSES = ("unconfirmed", "confirmed", "unsubscribed")
SUPPRESSION_REASONS = ("bounce", "spamreport", "unsubscribe", "manual", "invalid")

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("double_opt_in", sa.Boolean, nullable=False, server_default=sa.false()),
    # Offered on the public pages (signup, preferences); a private list is shown only to its
    # members.
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # The address as the subscriber wrote it (after syntax normalization)...
    sa.Column("email", sa.String(320), nullable=False),
    # ...and the lower-cased form that makes it unique: Ada@x and ada@x are one person.
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # lower(name), computed by the database (SQLite keeps it only in the index; PostgreSQL
    # stores it, as migration 0016 says): a name-prefix search is a range of this index.
    sa.Column("name_key", sa.String(200), sa.Computed("lower(name)")),
    sa.Index("ix_subscribers_name_key", "name_key"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("list_id", BigId, sa.ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "subscriber_id",
        BigId,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("status IN ('unconfirmed', 'confirmed', 'unsubscribed')", name="status"),
    sa.Index("ix_memberships_subscriber_id", "subscriber_id"),
    # A list's members by status, for a search by a status that may be rare: confirmed, the
    # usual status, is left out, so importing confirmed people never writes to it.
    sa.Index(
        "ix_memberships_list_status",
        "list_id",
        "status",
        sqlite_where=sa.text("status <> 'confirmed'"),
        postgresql_where=sa.text("status <> 'confirmed'"),
    ),
    # The primary key is the row's address (list_id first, so a list's members are one range);
    # a separate rowid would be one more b-tree to update on every import row.
    sqlite_with_rowid=False,
)

# Who had unsubscribed from a list that was deleted, by the list's name: an unsubscribe is a
# consent record, so a list created again under that name starts with them unsubscribed.
list_unsubscribes = sa.Table(
    "list_unsubscribes",
    metadata,
    sa.Column("list_name", sa.String(100), primary_key=True),
    sa.Column(
        "subscriber_id",
        BigId,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.Column("unsubscribed_at", UtcDateTime, nullable=False),
    sa.Index("ix_list_unsubscribes_subscriber_id", "subscriber_id"),
)

# The consent record: who joined or left which list, when, through what, and (only with
# [web] record_ip) from which IP address.
CONSENT_ACTIONS = ("subscribe", "confirm", "unsubscribe", "resubscribe")
consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "subscriber_id",
        BigId,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("list_name", sa.String(100), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "action IN ('subscribe', 'confirm', 'unsubscribe', 'resubscribe')", name="action"
    ),
    sa.Index("ix_consent_events_subscriber_id", "subscriber_id"),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    # sha256 of the address key: what a lookup uses, and all that is left after erasure.
    sa.Column("address_hash", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=True),
    # subscribers.email_key of the address (None once erased): what a campaign's audience is
    # anti-joined on, so no query binds the suppressed addresses one by one.
    sa.Column("email_key", sa.String(320), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "reason IN ('bounce', 'spamreport', 'unsubscribe', 'manual', 'invalid')", name="reason"
    ),
    # A sender checks each batch against the suppressions added since its snapshot.
    sa.Index("ix_suppressions_created_at", "created_at"),
    sa.Index("ix_suppressions_email_key", "email_key", unique=True),
)

CAMPAIGN_STATUSES = (
    "draft", "scheduled", "sending", "paused", "sent", "cancelled", "failed", "missed",
)  # fmt: skip
# ``waiting``: a local-time delivery whose moment (``due_at``) has not come yet.
DELIVERY_STATUSES = ("waiting", "pending", "in_flight", "sent", "failed", "skipped", "in_doubt")
# What SendGrid's events say became of a message, in the order a delivery's outcome moves.
DELIVERY_OUTCOMES = (
    "processed",
    "deferred",
    "delivered",
    "blocked",
    "bounced",
    "dropped",
    "spamreport",
)
BATCH_STATUSES = ("claimed", "in_flight", "sent", "failed", "in_doubt")
TRANSPORTS = ("sendgrid", "smtp", "outbox")
ISSUE_RULES = ("next-ready",)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("issue_number", sa.Integer, nullable=False),
    sa.Column("issue_file", sa.String(500), nullable=False),
    # The list's name is kept too: a campaign's history outlives a deleted list.
    sa.Column("list_id", BigId, sa.ForeignKey("lists.id", ondelete="SET NULL"), nullable=True),
    sa.Column("list_name", sa.String(100), nullable=False),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Column("transport", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # The rendered content (with merge tokens), stored when the send starts: a resumed send
    # and the archive use exactly what went out, whatever happened to the file since.
    sa.Column("subject", sa.Text, nullable=True),
    sa.Column("html", sa.Text, nullable=True),
    sa.Column("text", sa.Text, nullable=True),
    # Stored with the content, for the public archive and feed: the issue's title and
    # preheader, and whether it may be shown there at all (``archive: false`` keeps it out).
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("preheader", sa.Text, nullable=True),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.true()),
    # Why the campaign paused or failed, in words for the editor.
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    # The process sending it (host:pid) and when it last said it was alive.
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("scheduled_at", UtcDateTime, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The zone a schedule was given in, so its time is shown as the editor wrote it.
    sa.Column("zone", sa.String(64), nullable=True),
    # Local-time delivery: "HH:MM" in each subscriber's own zone.
    sa.Column("local_time", sa.String(5), nullable=True),
    # The recurring schedule whose tick made this campaign.
    sa.Column("schedule_name", sa.String(100), nullable=True),
    # Local-time delivery: when the next waiting recipients are due (no sender needed before).
    sa.Column("waiting_until", UtcDateTime, nullable=True),
    sa.CheckConstraint(_one_of("status", CAMPAIGN_STATUSES), name="status"),
    sa.CheckConstraint(_one_of("transport", TRANSPORTS), name="transport"),
    sa.Index("ix_campaigns_status", "status"),
)

# One row per request made for a campaign (a 400 split into halves makes new ones).
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # What the provider calls the request (SendGrid's X-Message-Id), to trace it there.
    sa.Column("message_id", sa.String(200), nullable=True),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(_one_of("status", BATCH_STATUSES), name="status"),
    sa.Index("ix_batches_campaign_id", "campaign_id"),
)

# The per-recipient ledger: who a campaign is for and what happened to each of them.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column(
        "campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    ),
    # Erasing a person erases their ledger rows too: the ledger holds no address of its own.
    sa.Column(
        "subscriber_id",
        BigId,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    # The request that carried it (batches.id); no foreign key, which would cost a lookup on
    # every one of a million updates and protect nothing the campaign cascade does not.
    sa.Column("batch_id", BigId, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Local-time delivery: the moment a waiting row becomes pending.
    sa.Column("due_at", UtcDateTime, nullable=True),
    # What SendGrid's events told (migration 0013), times in seconds since 1970 like
    # events.occurred_at. ``outcome`` (one of DELIVERY_OUTCOMES) only ever moves forward: a
    # late ``processed`` does not undo ``delivered``. It is apart from ``status``, which is
    # the sender's own ledger.
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.Column("outcome_reason", sa.Text, nullable=True),
    sa.Column("outcome_at", sa.BigInteger, nullable=True),
    # The first open and click, all and without machine opens / automated clicks: unique
    # opens and clicks are a count over the campaign's rows. None with [tracking]
    # individual = false.
    sa.Column("first_open_at", sa.BigInteger, nullable=True),
    sa.Column("first_human_open_at", sa.BigInteger, nullable=True),
    sa.Column("first_click_at", sa.BigInteger, nullable=True),
    sa.Column("first_human_click_at", sa.BigInteger, nullable=True),
    # Which kinds of event SendGrid sent for it, one bit each (migration 0014): processed,
    # deferred, delivered, bounce, dropped, spamreport (kinds.KIND_BITS), opened, opened by
    # a person, clicked, clicked by a person (kinds.FIRST_BITS). A report counts recipients
    # from these without reading events. None: no event yet.
    sa.Column("event_kinds", sa.Integer, nullable=True),
    sa.CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
    sa.Index("ix_deliveries_subscriber_id", "subscriber_id"),
    # A report's recipients per kind of event, read from this index alone. Only rows with
    # events are in it, so writing a campaign's ledger and sending it never touch it.
    sa.Index(
        "ix_deliveries_event_kinds",
        "campaign_id",
        "event_kinds",
        sqlite_where=sa.text("event_kinds IS NOT NULL"),
        postgresql_where=sa.text("event_kinds IS NOT NULL"),
    ),
    sqlite_with_rowid=False,
)

# Token buckets of the send rate cap, stored so a restart does not grant a fresh burst.
rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Requests counted per purpose ("signup-ip") and key (a keyed hash of an IP or an address) in
# fixed windows, shared by every `mailer serve` process; expired windows are deleted.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("purpose", sa.String(50), primary_key=True),
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("window_start", UtcDateTime, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Index("ix_rate_limits_expires_at", "expires_at"),
)

# Recurring sends: at each tick of the cron expression (read in ``zone``), the oldest ready issue
# not yet sent to the list goes out.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("cron", sa.String(200), nullable=False),
    sa.Column("zone", sa.String(64), nullable=False),
    sa.Column("list_name", sa.String(100), nullable=False),
    sa.Column("segment", sa.Text, nullable=True),
    # None: the configured default transport at the time of the tick.
    sa.Column("transport", sa.String(16), nullable=True),
    sa.Column("issues", sa.String(16), nullable=False),
    # "config" (kept in step with the config file by the worker) or "cli".
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The last tick claimed (by exactly one worker) and what came of it.
    sa.Column("last_tick_at", UtcDateTime, nullable=True),
    sa.Column("last_result", sa.Text, nullable=False, server_default=""),
    sa.CheckConstraint(_one_of("issues", ISSUE_RULES), name="issues"),
    sa.CheckConstraint("origin IN ('cli', 'config')", name="origin"),
)

# APScheduler's job store, declared here with the layout its SQLAlchemyJobStore uses so the
# migrations create it and the schema check knows it.
scheduler_jobs = sa.Table(
    "apscheduler_jobs",
    metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)

# The Event Webhook finds a request's batch by SendGrid's X-Message-Id (the prefix of every
# event's sg_message_id).
batches_by_message_id = sa.Index("ix_batches_message_id", batches.c.message_id)
