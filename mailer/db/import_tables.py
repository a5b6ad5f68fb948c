"""The table of subscriber imports started from the admin app or the REST API: who started
which file into which list, how its columns are read, how far it got, and where its rejected
rows are."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.metadata import metadata
from mailer.db.types import BigId, Json, UtcDateTime

# As mailer.audience.import_jobs.ImportStatus (kept here so the tables load without it).
IMPORT_STATUSES = ("uploaded", "queued", "running", "done", "failed")
IMPORT_STATUS_CHECK = "status IN ('uploaded', 'queued', 'running', 'done', 'failed')"

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # "ann@example.com" or "token:deploy", as the audit log names them.
    sa.Column("actor", sa.String(330), nullable=False),
    # A name, not a reference: the record of an import outlives the list it went into.
    sa.Column("list_name", sa.String(100), nullable=False),
    # The name the file had on the uploader's computer (shown, never used as a path).
    sa.Column("file_name", sa.String(200), nullable=False),
    # The random name of the stored upload under <var>/imports (removed once imported).
    sa.Column("stored_as", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    # One target per CSV column ("email", "name", "timezone", "attribute:<key>", "" ignored);
    # NULL until chosen (status "uploaded").
    sa.Column("mapping", Json, nullable=True),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("bytes_read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("added", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rejected", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("suppressed", sa.BigInteger, nullable=False, server_default="0"),
    # The CSV of rows not imported (line, email, outcome, reason), under <var>/imports.
    sa.Column("rejects_file", sa.String(64), nullable=True),
    # Why the import failed as a whole (an unreadable header row, a database error).
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=True),
    # Written with the progress while running: a running import whose heartbeat is old was
    # interrupted (its process died).
    sa.Column("heartbeat_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(IMPORT_STATUS_CHECK, name="status"),
)
