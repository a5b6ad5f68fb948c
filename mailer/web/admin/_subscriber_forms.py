"""The changes made on the subscribers pages, for those who may manage the audience: add a
subscriber (from the search page); change their name, time zone and attributes; unsubscribe
them from a list or from everything; subscribe them again with a reason; suppress the
address; forget them after a page that says what forgetting erases. Each is decided, and
written to the audit log, by :mod:`mailer.actions.subscribers`; a refusal is shown at its
field with what was typed."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mailer.actions import subscribers as actions
from mailer.actions import suppressions as suppression_actions
from mailer.audience.attributes import AttributeValue
from mailer.errors import FieldError, MailerError
from mailer.web.admin._list_forms import checked_text, form_text
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.admin._subscriber_pages import (
    EMAIL_MAX,
    LIST_MAX,
    address_path,
    mailer_of,
    missing_page,
    path_address,
    refusal_of,
    search_page,
    subscriber_page,
)
from mailer.web.strings import STRINGS

NAME_MAX = 200
TIMEZONE_MAX = 64
ATTRIBUTES_MAX = 20_000
REASON_MAX = 500
DETAIL_MAX = 1000
ADD_FIELDS = ("email", "name", "timezone", "lists", "attributes")
EDIT_FIELDS = ("name", "timezone", "attributes")


def _raw(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def parse_attributes(text: str) -> dict[str, AttributeValue]:
    """``name=value`` a line (blank lines skipped) -> the attributes; ``tags=a;b`` is a list.
    A line without ``=`` is refused naming its number."""
    checked = checked_text("attributes", text, ATTRIBUTES_MAX, multiline=True)
    attributes: dict[str, AttributeValue] = {}
    for number, line in enumerate(checked.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise FieldError("attributes", f"line {number}: write it as name=value")
        name = key.strip().lower()
        attributes[name] = (
            [tag.strip() for tag in value.replace(",", ";").split(";") if tag.strip()]
            if name == "tags"
            else value.strip()
        )
    return attributes


def add(request: Request, form: FormData) -> Response:
    chosen = [name for name in form.getlist("lists") if isinstance(name, str)]
    typed: dict[str, object] = {name: _raw(form, name, ATTRIBUTES_MAX) for name in ADD_FIELDS}
    typed |= {"lists": chosen, "confirmed": "confirmed" in form}
    try:
        lists = [checked_text("lists", name, LIST_MAX) for name in chosen]
        view = actions.add_subscriber(
            mailer_of(request),
            principal_of(request),
            form_text(form, "email", EMAIL_MAX),
            lists=lists,
            name=form_text(form, "name", NAME_MAX),
            timezone=form_text(form, "timezone", TIMEZONE_MAX),
            attributes=parse_attributes(_raw(form, "attributes", ATTRIBUTES_MAX + 1)),
            confirmed="confirmed" in form,
        )
    except MailerError as exc:
        refusal = refusal_of("add", exc, ADD_FIELDS)
        return search_page(request, refusal=refusal, typed=typed)
    email = view.detail.subscriber.email
    values = {"q": email, "list": "", "status": "", "segment": "", "after": ""}
    return search_page(request, values=values, notice=_added(email, view.confirmation))


def _added(email: str, confirmation: str | None) -> str:
    """What the add did, with the confirmation mail when one was due."""
    words = STRINGS.subscribers
    if confirmation is None:
        return words.added.format(email=email)
    if confirmation == "mailed":
        return words.confirmation_mailed.format(email=email)
    why = confirmation.removeprefix("not sent: ")
    return words.confirmation_not_sent.format(email=email, why=why)


def edit(request: Request, form: FormData) -> Response:
    typed = {name: _raw(form, name, ATTRIBUTES_MAX) for name in EDIT_FIELDS}
    mailer, principal = mailer_of(request), principal_of(request)
    try:
        email = path_address(request)
        attributes = parse_attributes(_raw(form, "attributes", ATTRIBUTES_MAX + 1))
        # The form shows every attribute: one whose line was deleted is removed (an empty
        # value removes it; the others are merged).
        stored = actions.subscriber_view(mailer, principal, email).detail.subscriber.attributes
        removed: dict[str, AttributeValue] = {key: "" for key in stored if key not in attributes}
        view = actions.edit_subscriber(
            mailer,
            principal,
            email,
            name=form_text(form, "name", NAME_MAX),
            timezone=form_text(form, "timezone", TIMEZONE_MAX),
            attributes=removed | attributes,
        )
    except MailerError as exc:
        return subscriber_page(request, refusal=refusal_of("edit", exc, EDIT_FIELDS), typed=typed)
    email = view.detail.subscriber.email
    return subscriber_page(request, notice=STRINGS.subscribers.saved.format(email=email))


def unsubscribe(request: Request, form: FormData) -> Response:
    words = STRINGS.subscribers
    try:
        email = path_address(request)
        list_name = form_text(form, "list", LIST_MAX)
        changed = actions.unsubscribe(
            mailer_of(request),
            principal_of(request),
            email,
            list_name=list_name or None,
            reason=form_text(form, "reason", REASON_MAX),
        )
    except MailerError as exc:
        refusal = refusal_of("unsubscribe", exc, ("list", "reason"))
        return subscriber_page(
            request, refusal=refusal, typed={"reason": _raw(form, "reason", 500)}
        )
    notice = (
        words.unsubscribed.format(email=email, lists=", ".join(changed))
        if changed
        else words.unsubscribed_nothing.format(email=email)
    )
    return subscriber_page(request, notice=notice)


def resubscribe(request: Request, form: FormData) -> Response:
    words = STRINGS.subscribers
    try:
        email = path_address(request)
        list_name = form_text(form, "list", LIST_MAX)
        reason = form_text(form, "reason", REASON_MAX)
        if not reason:
            raise FieldError("reason", words.reason_missing)
        view = actions.resubscribe(
            mailer_of(request), principal_of(request), email, list_name=list_name, reason=reason
        )
    except MailerError as exc:
        refusal = refusal_of("resubscribe", exc, ("list", "reason"))
        typed = {"reason": _raw(form, "reason", REASON_MAX)}
        return subscriber_page(request, refusal=refusal, typed=typed)
    notice = words.resubscribed.format(email=view.detail.subscriber.email, list=list_name)
    return subscriber_page(request, notice=notice)


def suppress(request: Request, form: FormData) -> Response:
    words = STRINGS.subscribers
    try:
        found, added = suppression_actions.suppress(
            mailer_of(request),
            principal_of(request),
            path_address(request),
            form_text(form, "reason", LIST_MAX) or "manual",
            form_text(form, "detail", DETAIL_MAX, multiline=True),
        )
    except MailerError as exc:
        refusal = refusal_of("suppress", exc, ("reason", "detail"))
        return subscriber_page(
            request, refusal=refusal, typed={"detail": _raw(form, "detail", 1000)}
        )
    email = found.email or ""
    if added:
        return subscriber_page(request, notice=words.suppressed.format(email=email))
    notice = words.suppressed_already.format(email=email, reason=found.reason)
    return subscriber_page(request, notice=notice)


def confirm_forget(request: Request) -> Response:
    """The page that says what forgetting erases, with the button that does it."""
    try:
        view = actions.subscriber_view(
            mailer_of(request), principal_of(request), path_address(request)
        )
    except MailerError:
        return missing_page(request)
    return admin_page(
        request,
        "admin/subscriber_forget.html",
        principal_of(request),
        subscriber=view.detail.subscriber,
        memberships=len(view.detail.memberships),
        address_path=address_path,
        current="subscribers",
    )


def forget(request: Request, form: FormData) -> Response:
    try:
        actions.forget(mailer_of(request), principal_of(request), path_address(request))
    except MailerError:
        return missing_page(request)
    values = {"q": "", "list": "", "status": "", "segment": "", "after": ""}
    return search_page(request, values=values, notice=STRINGS.subscribers.forgotten)
