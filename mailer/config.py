"""Typed settings from a TOML file plus ``MAILER_<SECTION>_<KEY>`` environment overrides.

Lookup order for the file: an explicit path, then ``$MAILER_CONFIG``, then ``./mailer.toml``,
then built-in defaults that work with no file at all. Secrets never live in the file: the file
names the environment variable that holds each secret.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
)

from mailer.config_admin import AdminSettings
from mailer.config_api import ApiSettings
from mailer.config_environment import (
    ENV_CONFIG_PATH,
    EnvironmentSettings,
    read_environment,
    secret_problems,
    unknown_variables,
)
from mailer.config_events import EventSettings, TrackingSettings
from mailer.config_section import Section
from mailer.config_values import DAY_SECONDS, check_email, check_zone
from mailer.config_values import check_cron as check_cron
from mailer.config_values import duration_seconds as duration_seconds
from mailer.config_values import scheduler_cron as scheduler_cron
from mailer.config_web import WebSettings as WebSettings
from mailer.errors import ConfigError

DEFAULT_CONFIG_NAME = "mailer.toml"


class NewsletterSettings(Section):
    name: str = Field("Tech in China Weekly", description="Shown in the header and From name.")
    from_email: str = Field("newsletter@example.com", description="Sender address.")
    from_name: str = Field("", description="Display name of the sender; the name when empty.")
    reply_to: str = Field("", description="Where replies go; the sender address when empty.")
    postal_address: str = Field(
        "", description="Physical postal address printed in every footer (required by law)."
    )
    timezone: str = Field("UTC", description="IANA zone for dates and schedules.")
    base_url: str = Field(
        "https://newsletter.example.com",
        description="Public https URL of `mailer serve`: archive, unsubscribe and preferences.",
    )
    list_id: str = Field("", description="List-Id header domain part; from base_url when empty.")

    @field_validator("from_email")
    @classmethod
    def _from_email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str) -> str:
        return check_email(value) if value else value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or value[-3:] == "://":
            raise ValueError(f"{value!r} must be an absolute http(s) URL")
        return value.rstrip("/")

    @property
    def sender_name(self) -> str:
        return self.from_name or self.name


class PathSettings(Section):
    issues: Path = Field(Path("issues"), description="Folder of issue Markdown files.")
    templates: Path = Field(Path("templates/email"), description="Folder of email templates.")
    web_templates: Path = Field(
        Path("templates/web"), description="Folder of the public pages' templates and static/."
    )
    subscribers: Path = Field(Path("subscribers"), description="Folder of subscriber CSV files.")
    var: Path = Field(Path("var"), description="Folder for the database, outbox and keys.")


class DatabaseSettings(Section):
    url: str = Field("", description="SQLAlchemy URL; empty means SQLite at <var>/mailer.db.")


class SendGridSettings(Section):
    api_key_env: str = Field("SENDGRID_API_KEY", description="Env var holding the API key.")
    host: str = Field("https://api.sendgrid.com", description="API base URL.")
    batch_size: int = Field(1000, ge=1, le=1000, description="Recipients per request.")
    timeout: float = Field(30.0, gt=0, le=3600, description="Seconds before a request is given up.")
    concurrency: int = Field(
        16, ge=1, le=64, description="Requests on the wire at once, over kept-alive connections."
    )
    sandbox: bool = Field(False, description="Validate requests without delivering mail.")
    categories: list[str] = Field(default_factory=list, description="SendGrid categories.")
    asm_group_id: int = Field(
        0, ge=0, le=2**31 - 1, description="Unsubscribe group id; 0 for none."
    )
    click_tracking: bool = Field(False, description="Let SendGrid rewrite links to count clicks.")
    open_tracking: bool = Field(False, description="Let SendGrid add a pixel to count opens.")


class SmtpSettings(Section):
    host: str = Field("127.0.0.1", description="SMTP server host.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    username: str = Field("", description="Login name; no login when empty.")
    password_env: str = Field("MAILER_SMTP_PASSWORD", description="Env var holding the password.")
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description="TLS mode.")
    connections: int = Field(
        4, ge=1, le=32, description="Connections kept open and sending at once."
    )


class OutboxSettings(Section):
    dir: Path = Field(Path("var/outbox"), description="Folder that receives one .eml per message.")


class TransportSettings(Section):
    default: Literal["sendgrid", "smtp", "outbox"] = Field(
        "outbox", description="Transport used when a command names none."
    )
    sendgrid: SendGridSettings = Field(default_factory=SendGridSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)


class DeliverySettings(Section):
    max_per_second: float = Field(
        0.0,
        ge=0,
        le=1_000_000,
        description="Cap on messages per second over all senders; 0 for none.",
    )
    retry_attempts: int = Field(
        5, ge=1, le=100, description="Tries of a batch on 5xx or connection errors."
    )
    retry_base_seconds: float = Field(
        1.0,
        gt=0,
        le=DAY_SECONDS,
        description="First wait between tries; doubles each time, with jitter.",
    )
    retry_max_seconds: float = Field(
        60.0, gt=0, le=DAY_SECONDS, description="Longest wait between tries."
    )
    stale_after_seconds: float = Field(
        300.0,
        gt=0,
        le=30 * DAY_SECONDS,
        description="Silence after which another host may take over a campaign's sending.",
    )
    in_doubt_quiet_minutes: float = Field(
        10.0,
        ge=0,
        le=7 * 24 * 60,
        description=(
            "Minutes after a batch is found in doubt before its recipients that no SendGrid "
            "event confirmed may be resent."
        ),
    )
    resend_unconfirmed_in_doubt: bool = Field(
        False,
        description=(
            "Whether `mailer worker` resends in-doubt recipients no SendGrid event confirmed, "
            "once the quiet period has passed."
        ),
    )
    worker_silent_minutes: float = Field(
        5.0,
        ge=1,
        le=7 * 24 * 60,
        description=(
            "Minutes without a sign of life from any `mailer worker` after which the admin "
            "dashboard warns that no worker runs."
        ),
    )


class RecurringSchedule(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$", description="Name of the schedule.")
    cron: str = Field(description="minute hour day month weekday, e.g. '0 9 * * MON'.")
    timezone: str = Field("", description="IANA zone of the cron times; newsletter's if empty.")
    list: str = Field(min_length=1, description="Mailing list each tick sends to.")
    issues: Literal["next-ready"] = Field(
        "next-ready", description="Which issue a tick sends: the oldest ready one not yet sent."
    )
    segment: str = Field("", description="Only members matching this segment; all if empty.")
    transport: Literal["", "sendgrid", "smtp", "outbox"] = Field(
        "", description="Transport; the default transport if empty."
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_zone(value) if value else value


class ScheduleSettings(Section):
    misfire_grace: str = Field(
        "1h",
        description="How late a scheduled send may still go out after the worker was down; "
        "later than that it is marked missed.",
    )
    recurring: list[RecurringSchedule] = Field(
        default_factory=list, description="Recurring sends ([[schedule.recurring]] tables)."
    )

    @field_validator("misfire_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        duration_seconds(value)
        return value

    @field_validator("recurring")
    @classmethod
    def _unique_names(cls, value: list[RecurringSchedule]) -> list[RecurringSchedule]:
        names = [schedule.name for schedule in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"schedule names must be unique; twice: {', '.join(twice)}")
        return value

    @property
    def misfire_grace_seconds(self) -> float:
        return duration_seconds(self.misfire_grace)


class Settings(Section):
    newsletter: NewsletterSettings = Field(default_factory=NewsletterSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    transport: TransportSettings = Field(default_factory=TransportSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    source: Path | None = Field(None, exclude=True, description="The file these came from.")


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _describe(error: Mapping[str, Any], location: str) -> str:
    section, _, key = location.rpartition(".")
    if error["type"] == "extra_forbidden":
        where = f"[{section}] " if section else ""
        return f"{where}unknown key {key!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def _problems(exc: ValidationError, origin: str, environment: EnvironmentSettings) -> str:
    """One line: the file's problems after its name, then each variable's after its name."""
    in_file: list[str] = []
    in_environment: list[str] = []
    for error in exc.errors():
        found = environment.variable_for(error["loc"])
        if found is None:
            in_file.append(_describe(error, ".".join(str(part) for part in error["loc"])))
        else:
            variable, inside = found
            in_environment.append(f"environment variable {variable}: {_describe(error, inside)}")
    if in_file:
        in_environment.insert(0, f"{origin}: " + "; ".join(in_file))
    return "; ".join(in_environment)


def _resolve_paths(settings: Settings, root: Path) -> Settings:
    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else root / path

    paths = settings.paths.model_copy(
        update={name: absolute(getattr(settings.paths, name)) for name in PathSettings.model_fields}
    )
    outbox = settings.transport.outbox.model_copy(
        update={"dir": absolute(settings.transport.outbox.dir)}
    )
    transport = settings.transport.model_copy(update={"outbox": outbox})
    database = settings.database.model_copy(
        update={"url": _database_url(settings.database.url, root, paths.var)}
    )
    return settings.model_copy(
        update={"paths": paths, "transport": transport, "database": database}
    )


def _database_url(url: str, root: Path, var: Path) -> str:
    """An empty URL means SQLite under var/; a relative SQLite path is relative to the config."""
    if not url:
        return f"sqlite:///{var / 'mailer.db'}"
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        path = Path(url[len(prefix) :])
        if not path.is_absolute():
            return prefix + str(root / path)
    return url


def find_config_file(explicit: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found (given with --config)")
        return explicit
    from_env = environ.get(ENV_CONFIG_PATH)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (named by ${ENV_CONFIG_PATH})")
        return path
    local = cwd / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_settings(
    explicit: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Read settings; every problem is a ConfigError naming the key and the file."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    path = find_config_file(explicit, environ, cwd)
    data: dict[str, Any] = {}
    origin = "built-in defaults"
    if path is not None:
        origin = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-8 ({exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    environment = read_environment(Settings, environ)
    merged = _merge(data, environment.values)
    problems = environment.problems + unknown_variables(Settings, environ, merged)
    if problems:
        raise ConfigError("; ".join(problems))
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, origin, environment)) from None
    if problems := secret_problems(settings, environ):
        raise ConfigError("; ".join(problems))
    root = path.parent.resolve() if path is not None else cwd.resolve()
    return _resolve_paths(settings, root).model_copy(update={"source": path})
