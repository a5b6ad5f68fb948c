"""The admin app's words for the subscribers pages (``t.subscribers``): the search, one
subscriber's page with their history, and the changes made there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubscribersText:
    title: str = "Subscribers"
    intro: str = (
        "Search by the start of an address or a name, and narrow by list, status and segment. "
        "Open a subscriber to see their lists, attributes, what was sent to them and what "
        "SendGrid told of it."
    )
    read_only_note: str = "Your role may look at subscribers but not change them."
    query_label: str = "Address or name starts with"
    list_label: str = "List"
    any_list: str = "Any list"
    status_label: str = "Status on that list"
    any_status: str = "Any status"
    segment_label: str = "Segment (optional)"
    segment_hint: str = 'Only those matching it, e.g. country = "CN" and "ai" in tags.'
    segment_error: str = "Column {column}: {message}"
    search_button: str = "Search"
    column_email: str = "Address"
    column_name: str = "Name"
    column_status: str = "Status"
    column_since: str = "Since (UTC)"
    no_match: str = "No subscriber matches."
    first_page: str = "First page"
    next_page: str = "Next page"
    statuses: tuple[tuple[str, str], ...] = (
        ("confirmed", "confirmed"),
        ("unconfirmed", "unconfirmed"),
        ("unsubscribed", "unsubscribed"),
    )

    add_heading: str = "Add a subscriber"
    email_label: str = "Email address"
    name_label: str = "Name"
    timezone_label: str = "Time zone (an IANA name like Asia/Shanghai; empty: the newsletter's)"
    lists_legend: str = "Lists"
    attributes_label: str = "Attributes, one a line as name=value (tags=a;b for tags)"
    confirmed_label: str = "Confirmed already: send no confirmation request"
    add_button: str = "Add subscriber"
    added: str = "{email} is added."
    confirmation_mailed: str = "{email} is added and mailed a link to confirm."
    confirmation_not_sent: str = (
        "{email} is added, but the link to confirm was not sent ({why}); adding them again "
        "sends it."
    )
    no_lists_to_add: str = "Create a list first: a subscriber is added to a list."

    back: str = "All subscribers"
    heading: str = "Subscriber {email}"
    not_found: str = "There is no subscriber with this address."
    created_row: str = "Added (UTC)"
    updated_row: str = "Changed (UTC)"
    timezone_row: str = "Time zone"
    no_timezone: str = "not set (the newsletter's)"
    suppression_row: str = "Suppressed"
    suppressed_since: str = "yes: {reason}, since {when}"
    not_suppressed: str = "no"
    memberships_heading: str = "Lists"
    no_memberships: str = "On no list."
    column_list: str = "List"
    column_source: str = "How"
    column_joined: str = "Joined (UTC)"
    column_changed: str = "Changed (UTC)"
    attributes_heading: str = "Attributes"
    no_attributes: str = "No attributes."
    deliveries_heading: str = "Deliveries (the latest {latest})"
    no_deliveries: str = "Nothing was sent to them yet."
    column_campaign: str = "Campaign"
    column_issue: str = "Issue"
    column_ledger: str = "Sending"
    column_outcome: str = "Outcome"
    column_error: str = "Error"
    column_updated: str = "Changed (UTC)"
    events_heading: str = "Events (the latest {latest})"
    no_events: str = "SendGrid told nothing of them yet."
    column_kind: str = "Event"
    column_at: str = "When (UTC)"
    column_url: str = "Link"

    edit_heading: str = "Change name, time zone and attributes"
    save_button: str = "Save changes"
    saved: str = "{email} is saved."
    unsubscribe_heading: str = "Unsubscribe"
    from_label: str = "From"
    every_list: str = "every list (and suppress the address)"
    reason_label: str = "Reason (kept in the audit log)"
    unsubscribe_button: str = "Unsubscribe"
    unsubscribed: str = "{email} is unsubscribed from {lists}."
    unsubscribed_nothing: str = "{email} was subscribed to no list that could change."
    resubscribe_heading: str = "Subscribe again"
    to_label: str = "To"
    resubscribe_reason_label: str = "Why (needed; kept in the audit log)"
    resubscribe_button: str = "Subscribe again"
    resubscribed: str = "{email} is subscribed to {list} again."
    reason_missing: str = "say why they are subscribed again"
    nothing_to_resubscribe: str = "They left no list they could be subscribed to again."
    suppress_heading: str = "Suppress"
    suppress_intro: str = "A suppressed address is never mailed, whatever list it is on."
    suppress_reason_label: str = "Reason"
    suppress_detail_label: str = "Detail (optional)"
    suppress_button: str = "Suppress"
    suppressed: str = "{email} is suppressed."
    suppressed_already: str = "{email} was suppressed already ({reason})."
    suppressed_note: str = "The address is suppressed: lift it on the suppressions page."
    forget_heading: str = "Forget"
    forget_intro: str = "Erase this person, as the law may ask: this cannot be undone."
    forget_link: str = "Forget this subscriber"
    forget_title: str = "Forget {email}?"
    forget_erases: str = "Forgetting erases, for good:"
    forget_items: tuple[str, ...] = (
        "the address, name, time zone and attributes",
        "every list membership ({count})",
        "the record of what was sent to them, and every SendGrid event about them",
    )
    forget_keeps: str = (
        "Only a one-way hash of the address stays, in the suppressions, so that no import or "
        "list mails them again by mistake. The audit log keeps that they were forgotten."
    )
    forget_button: str = "Forget {email}"
    keep_link: str = "Keep them"
    forgotten: str = "The subscriber is forgotten: only a one-way hash of the address is kept."

    def status(self, name: str | None) -> str:
        return "" if name is None else dict(self.statuses).get(name, name)


SUBSCRIBERS_TEXT = SubscribersText()
