"""One Event Webhook POST body (bytes) read into events, each checked on its own.

The body must be a JSON array (anything else is refused whole: ``NotEventBatch``). Inside
it, an event that is not an object, or lacks a usable ``event``, ``sg_event_id`` or
``timestamp``, is counted as malformed and skipped: refusing the whole POST for it would
make SendGrid retry the good events with it for a day, and the bad one would never pass.

Every other value comes from outside and is taken only in the shape expected: texts are
cut to a bound and lose NUL characters (PostgreSQL stores none), ids must be ASCII digits
in range, anything of another type is left out as if absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from mailer.audience.addresses import InvalidAddress, normalize_address
from mailer.delivery.transports.sendgrid_payload import CAMPAIGN_ARG, SUBSCRIBER_ARG

KNOWN_KINDS = frozenset(
    {
        "processed",
        "delivered",
        "deferred",
        "bounce",
        "dropped",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    }
)
SG_EVENT_ID_MAX = 100
KIND_MAX = 50
MESSAGE_ID_MAX = 200
REASON_MAX = 2000
STATUS_MAX = 32
BOUNCE_TYPE_MAX = 16
CLASSIFICATION_MAX = 64
URL_MAX = 8192
USER_AGENT_MAX = 1000
# Unknown events keep their other fields, up to this size as JSON and this depth.
EXTRA_MAX_BYTES = 16_384
EXTRA_MAX_DEPTH = 16
# Seconds since 1970: nothing before, nothing absurdly far ahead (fits a 64-bit column).
TIMESTAMP_MAX = 2**40
ID_MAX = 2**63 - 1
GROUP_ID_MAX = 2**31 - 1
ID_DIGITS_MAX = 19
# A per-person link of mailer's public pages: the segment after the page's name is a token.
PERSONAL_LINK = re.compile(r"^([^?#]*/(?:unsubscribe|preferences|confirm)/)[^/?#].*\Z", re.DOTALL)
# Fields of a known event read into columns (or, like the address, never stored as such).
READ_FIELDS = frozenset(
    {"event", "sg_event_id", "timestamp", "email", "sg_message_id", CAMPAIGN_ARG, SUBSCRIBER_ARG}
)


class NotEventBatch(ValueError):
    """The body is not a JSON array (not JSON, not UTF-8, or another JSON value)."""


# A NamedTuple, not a frozen dataclass: as immutable, and made about twice as fast (a POST
# makes thousands).
class ParsedEvent(NamedTuple):
    sg_event_id: str
    kind: str
    occurred_at: int
    campaign_arg: int | None = None
    subscriber_arg: int | None = None
    message_id: str | None = None
    """The request's X-Message-Id: sg_message_id up to its first dot."""
    email_key: str | None = None
    """The address the event is about, as subscribers.email_key holds it (None if invalid)."""
    reason: str | None = None
    status: str | None = None
    bounce_type: str | None = None
    classification: str | None = None
    url: str | None = None
    machine: bool | None = None
    asm_group_id: int | None = None
    user_agent: str | None = None
    """Not stored: for the rules that tell an automated click."""
    extra: dict[str, Any] | None = None


@dataclass
class ParsedBatch:
    events: list[ParsedEvent] = field(default_factory=list)
    received: int = 0
    malformed: int = 0


def parse_batch(body: bytes) -> ParsedBatch:
    """The events of one POST body; NotEventBatch when it is not a JSON array."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NotEventBatch(f"not JSON: {exc}") from None
    if not isinstance(items, list):
        raise NotEventBatch("not a JSON array of events")
    batch = ParsedBatch(received=len(items))
    # A POST names each address several times (processed, delivered, open...): each is
    # normalized once.
    keys: dict[str, str | None] = {}
    for item in items:
        event = parse_event(item, keys)
        if event is None:
            batch.malformed += 1
        else:
            batch.events.append(event)
    return batch


def parse_event(item: Any, keys: dict[str, str | None] | None = None) -> ParsedEvent | None:
    """One event, or None when it cannot be stored (not an object, or its identity is
    missing or unusable). ``keys``: addresses already normalized, and their keys."""
    if not isinstance(item, dict):
        return None
    get = item.get
    sg_event_id = _required_text(get("sg_event_id"), SG_EVENT_ID_MAX)
    kind = _required_text(get("event"), KIND_MAX)
    occurred_at = get("timestamp")
    if sg_event_id is None or kind is None or not _is_int(occurred_at, 0, TIMESTAMP_MAX):
        return None
    assert isinstance(occurred_at, int)
    email = get("email")
    if keys is None or not isinstance(email, str):
        email_key = _email_key(email)
    elif email in keys:
        email_key = keys[email]
    else:
        email_key = keys[email] = _email_key(email)
    return ParsedEvent(
        sg_event_id,
        kind,
        occurred_at,
        campaign_arg=parse_id(get(CAMPAIGN_ARG), ID_MAX),
        subscriber_arg=parse_id(get(SUBSCRIBER_ARG), ID_MAX),
        message_id=_request_id(get("sg_message_id")),
        email_key=email_key,
        reason=_text(get("reason"), REASON_MAX) or _text(get("response"), REASON_MAX),
        status=_text(get("status"), STATUS_MAX),
        bounce_type=_text(get("type"), BOUNCE_TYPE_MAX),
        classification=_text(get("bounce_classification"), CLASSIFICATION_MAX),
        url=click_url(get("url")) if kind == "click" else None,
        machine=_machine_open(item) if kind == "open" else None,
        asm_group_id=parse_id(get("asm_group_id"), GROUP_ID_MAX),
        user_agent=_text(get("useragent"), USER_AGENT_MAX),
        extra=None if kind in KNOWN_KINDS else _extra(item),
    )


def click_url(value: Any) -> str | None:
    """The clicked link as stored: a per-person link (unsubscribe, preferences, confirm)
    loses its token and all after it ("https://x.org/unsubscribe/…"). The token acts for
    the reader, and a stored URL outlives `mailer subscribers forget`. Any site's link of
    that shape is cut, as the host cannot be told from a proxy's or an old base_url's."""
    url = _text(value, URL_MAX)
    return None if url is None else PERSONAL_LINK.sub(r"\1…", url)


def parse_id(value: Any, maximum: int) -> int | None:
    """A positive id from a custom arg (a string of ASCII digits, as mailer sends it) or a
    JSON integer; None for anything else ("1e9", "-1", "١٢", 0, true, too large)."""
    if value is None:
        return None
    if isinstance(value, str):
        # ASCII digits only (of an ASCII string, isdigit() accepts 0-9 alone).
        if not (0 < len(value) <= ID_DIGITS_MAX and value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if not _is_int(value, 1, maximum):
        return None
    number: int = value
    return number


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _text(value: Any, limit: int | None) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "")
    return cleaned if limit is None else cleaned[:limit]


def _required_text(value: Any, limit: int) -> str | None:
    """A text that identifies: refused (not cut) when empty, too long or holding a NUL."""
    if not isinstance(value, str) or not 0 < len(value) <= limit or "\x00" in value:
        return None
    return value


def _request_id(sg_message_id: Any) -> str | None:
    """The X-Message-Id of the request that sent the message: sg_message_id up to its first
    dot ("14c5d75ce93.dfd.64b469.filter0001..." -> "14c5d75ce93")."""
    text = _text(sg_message_id, None)
    prefix = text.split(".", 1)[0] if text else ""
    return prefix if 0 < len(prefix) <= MESSAGE_ID_MAX else None


def _email_key(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 320:
        return None
    try:
        return normalize_address(value).key
    except InvalidAddress:
        return None


def _machine_open(item: dict[str, Any]) -> bool | None:
    flag = item.get("sg_machine_open")
    return flag if isinstance(flag, bool) else None


def _extra(item: dict[str, Any]) -> dict[str, Any] | None:
    """An unknown event's fields not read into columns, without the address."""
    rest = {key: _clean(value, 1) for key, value in item.items() if key not in READ_FIELDS}
    if not rest:
        return None
    if len(orjson.dumps(rest)) > EXTRA_MAX_BYTES:
        return {"omitted": f"fields larger than {EXTRA_MAX_BYTES} bytes as JSON"}
    return rest


def _clean(value: Any, depth: int) -> Any:
    """``value`` storable as JSON on both databases: no NUL in any text (PostgreSQL's jsonb
    refuses it), nothing nested deeper than EXTRA_MAX_DEPTH."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict | list) and depth >= EXTRA_MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {key.replace("\x00", ""): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    return value
