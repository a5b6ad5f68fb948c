"""What SendGrid's /v3/mail/send accepts, written from its published request schema and
documented limits, as a list of problems in SendGrid's error shape (message + field path).

Checked: required fields and types; email syntax; at most 1,000 personalizations and 1,000
recipients (to + cc + bcc) a request, and no address twice in it; a subject for every message;
content values non-empty with text/plain first and text/html next; string-only headers,
substitutions and custom_args, no reserved header; 10,000 bytes of substitutions per
personalization and of custom_args; at most 10 unique categories of 255 characters; send_at at
most 72 hours ahead; reply_to and reply_to_list not both; asm group ids as integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailer.audience.addresses import (
    ADDRESS_MAX,
    LOCAL_PART_MAX,
    PLAIN_ADDRESS,
    InvalidAddress,
    checked_domain,
    normalize_address,
)

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_ARGS_BYTES = 10_000
MAX_CATEGORIES = 10
MAX_CATEGORY_CHARS = 255
MAX_GROUPS_TO_DISPLAY = 25
MAX_SEND_AHEAD_SECONDS = 72 * 3600
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
        "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
    }
)  # fmt: skip


PLAIN_KEYS = frozenset({"to", "headers", "substitutions", "custom_args"})
ADDRESS_KEYS = frozenset({"email", "name"})


def plain_address_key(email: str) -> str | None:
    """The duplicate-check key of a plain ASCII address that is valid (the same test the
    importer's fast path makes), or None to leave the address to the full check."""
    match = PLAIN_ADDRESS.fullmatch(email)
    if match is None or len(match["local"]) > LOCAL_PART_MAX or len(email) > ADDRESS_MAX:
        return None
    if not isinstance(checked_domain(match["domain"]), str):
        return None
    return email.lower()


@dataclass(frozen=True)
class Problem:
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "help": None}


class _Checker:
    def __init__(self, now: float) -> None:
        self.now = now
        self.problems: list[Problem] = []
        self.addresses: dict[str, str] = {}

    def fail(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(field, message))

    def is_object(self, value: Any, field: str) -> bool:
        if not isinstance(value, dict):
            self.fail(field, "must be an object")
            return False
        return True

    def string(
        self, value: Any, field: str, *, required: bool = False, min_length: int = 0
    ) -> None:
        if value is None:
            if required:
                self.fail(field, "is required")
            return
        if not isinstance(value, str):
            self.fail(field, "must be a string")
        elif len(value) < min_length:
            self.fail(field, f"must be at least {min_length} character(s) long")

    def address(self, value: Any, field: str, *, unique: bool) -> None:
        if not self.is_object(value, field):
            return
        email = value.get("email")
        if not isinstance(email, str) or not email:
            self.fail(f"{field}.email", "an email address is required")
            return
        try:
            key = normalize_address(email).key
        except InvalidAddress as exc:
            self.fail(f"{field}.email", f"not a valid email address: {exc}")
            return
        self.string(value.get("name"), f"{field}.name")
        if unique:
            if key in self.addresses:
                self.fail(
                    f"{field}.email",
                    f"{email} appears twice in one request (first at {self.addresses[key]}); "
                    "every recipient address must be unique within a request",
                )
            else:
                self.addresses[key] = field

    def string_map(self, value: Any, field: str, *, max_bytes: int | None = None) -> None:
        if value is None or not self.is_object(value, field):
            return
        size = 0
        for key, item in value.items():
            if not isinstance(item, str):
                self.fail(f"{field}.{key}", "values must be strings")
                continue
            size += len(key.encode()) + len(item.encode())
        if max_bytes is not None and size > max_bytes:
            self.fail(field, f"is {size} bytes; at most {max_bytes} are allowed")

    def headers(self, value: Any, field: str) -> None:
        self.string_map(value, field)
        if isinstance(value, dict):
            for name in value:
                if name.lower() in RESERVED_HEADERS:
                    self.fail(f"{field}.{name}", f"the header {name!r} is reserved")

    def send_at(self, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(field, "must be an integer (a unix timestamp)")
        elif value > self.now + MAX_SEND_AHEAD_SECONDS:
            self.fail(field, "cannot be more than 72 hours ahead")

    def recipient_list(self, value: Any, field: str, *, required: bool) -> int:
        if value is None:
            if required:
                self.fail(field, "is required and must hold at least one recipient")
            return 0
        if not isinstance(value, list) or (required and not value):
            self.fail(field, "must be an array with at least one recipient")
            return 0
        for index, item in enumerate(value):
            self.address(item, f"{field}.{index}", unique=True)
        return len(value)

    def plain_personalization(self, item: Any, index: int, global_subject: bool) -> bool:
        """True if ``item`` is a valid personalization of the usual shape (one ``to``; string
        maps of headers, substitutions and custom_args), checked without building a field
        name for each value. False sends it through the full checks, which say what is
        wrong: this only spares the emulator's time on the requests that are fine, so that it
        keeps up with a sender in a benchmark."""
        if type(item) is not dict or not global_subject or not PLAIN_KEYS.issuperset(item):
            return False
        to = item.get("to")
        if type(to) is not list or len(to) != 1:
            return False
        address = to[0]
        if type(address) is not dict or not ADDRESS_KEYS.issuperset(address):
            return False
        email, name = address.get("email"), address.get("name")
        if type(email) is not str or (name is not None and type(name) is not str):
            return False
        key = plain_address_key(email)
        if key is None or key in self.addresses:
            return False
        for field in ("headers", "substitutions", "custom_args"):
            values = item.get(field)
            if values is None:
                continue
            if type(values) is not dict:
                return False
            try:
                # join refuses anything but strings, at C speed; JSON keys are strings.
                chars = len("".join(values.values())) + len("".join(values))
            except TypeError:
                return False
            # A character is at most 4 bytes: only a map near the limit needs counting.
            if 4 * chars > MAX_ARGS_BYTES:
                return False
        headers = item.get("headers")
        if headers and not RESERVED_HEADERS.isdisjoint(map(str.lower, headers)):
            return False
        self.addresses[key] = f"personalizations.{index}.to.0"
        return True

    def personalizations(self, value: Any, global_subject: bool) -> None:
        field = "personalizations"
        if not isinstance(value, list) or not value:
            self.fail(field, "is required and must hold at least one personalization")
            return
        if len(value) > MAX_PERSONALIZATIONS:
            self.fail(field, f"holds {len(value)}; at most {MAX_PERSONALIZATIONS} are allowed")
            return
        recipients = 0
        for index, item in enumerate(value):
            if self.plain_personalization(item, index, global_subject):
                recipients += 1
                continue
            where = f"{field}.{index}"
            if not self.is_object(item, where):
                continue
            recipients += self.recipient_list(item.get("to"), f"{where}.to", required=True)
            recipients += self.recipient_list(item.get("cc"), f"{where}.cc", required=False)
            recipients += self.recipient_list(item.get("bcc"), f"{where}.bcc", required=False)
            subject = item.get("subject")
            self.string(subject, f"{where}.subject", min_length=1)
            if subject is None and not global_subject:
                self.fail(f"{where}.subject", "a subject is required, here or at the top level")
            self.headers(item.get("headers"), f"{where}.headers")
            self.string_map(
                item.get("substitutions"), f"{where}.substitutions", max_bytes=MAX_ARGS_BYTES
            )
            self.string_map(
                item.get("custom_args"), f"{where}.custom_args", max_bytes=MAX_ARGS_BYTES
            )
            self.send_at(item.get("send_at"), f"{where}.send_at")
        if recipients > MAX_RECIPIENTS:
            self.fail(field, f"name {recipients} recipients; at most {MAX_RECIPIENTS} are allowed")

    def content(self, value: Any, templated: bool) -> None:
        if value is None:
            if not templated:
                self.fail("content", "is required unless a template_id is given")
            return
        if not isinstance(value, list) or not value:
            self.fail("content", "must be an array with at least one content object")
            return
        types = []
        for index, item in enumerate(value):
            where = f"content.{index}"
            if not self.is_object(item, where):
                continue
            self.string(item.get("type"), f"{where}.type", required=True, min_length=1)
            self.string(item.get("value"), f"{where}.value", required=True, min_length=1)
            types.append(item.get("type"))
        plain_misplaced = "text/plain" in types and types[0] != "text/plain"
        html_misplaced = "text/plain" in types and "text/html" in types and types[1] != "text/html"
        if plain_misplaced or html_misplaced:
            self.fail("content", "text/plain must come first and text/html right after it")

    def categories(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.fail("categories", "must be an array of strings")
            return
        if len(value) > MAX_CATEGORIES:
            self.fail("categories", f"holds {len(value)}; at most {MAX_CATEGORIES} are allowed")
        if len({str(item) for item in value}) != len(value):
            self.fail("categories", "must not repeat a category")
        for index, item in enumerate(value):
            if not isinstance(item, str) or len(item) > MAX_CATEGORY_CHARS:
                self.fail(f"categories.{index}", "must be a string of at most 255 characters")

    def asm(self, value: Any) -> None:
        if value is None or not self.is_object(value, "asm"):
            return
        group = value.get("group_id")
        if not isinstance(group, int) or isinstance(group, bool):
            self.fail("asm.group_id", "is required and must be an integer")
        shown = value.get("groups_to_display")
        if shown is not None and (
            not isinstance(shown, list)
            or len(shown) > MAX_GROUPS_TO_DISPLAY
            or not all(isinstance(item, int) for item in shown)
        ):
            self.fail("asm.groups_to_display", "must be at most 25 integers")

    def settings(self, value: Any, field: str) -> None:
        if value is None or not self.is_object(value, field):
            return
        for name, setting in value.items():
            if not self.is_object(setting, f"{field}.{name}"):
                continue
            for key, item in setting.items():
                if key.startswith("enable") and not isinstance(item, bool):
                    self.fail(f"{field}.{name}.{key}", "must be true or false")


def check_mail_send(body: Any, now: float) -> list[Problem]:
    """Every problem SendGrid would report for this request body (empty when it is valid)."""
    checker = _Checker(now)
    if not isinstance(body, dict):
        return [Problem(None, "the request body must be a JSON object")]
    templated = isinstance(body.get("template_id"), str)
    subject = body.get("subject")
    checker.string(subject, "subject", min_length=1)
    checker.personalizations(body.get("personalizations"), subject is not None or templated)
    if body.get("from") is None:
        checker.fail("from", "is required: an object with an email and, optionally, a name")
    else:
        checker.address(body.get("from"), "from", unique=False)
    if body.get("reply_to") is not None:
        checker.address(body["reply_to"], "reply_to", unique=False)
        if body.get("reply_to_list") is not None:
            checker.fail("reply_to_list", "cannot be given together with reply_to")
    checker.content(body.get("content"), templated)
    checker.headers(body.get("headers"), "headers")
    checker.string_map(body.get("custom_args"), "custom_args", max_bytes=MAX_ARGS_BYTES)
    checker.categories(body.get("categories"))
    checker.asm(body.get("asm"))
    checker.send_at(body.get("send_at"), "send_at")
    checker.settings(body.get("mail_settings"), "mail_settings")
    checker.settings(body.get("tracking_settings"), "tracking_settings")
    return checker.problems


def is_sandboxed(body: dict[str, Any]) -> bool:
    settings = body.get("mail_settings") or {}
    sandbox = settings.get("sandbox_mode") or {}
    return bool(sandbox.get("enable"))
