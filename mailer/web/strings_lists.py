"""The admin app's words for lists, suppressions and schedules (``t.lists``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListsText:
    lists_title: str = "Lists"
    lists_intro: str = (
        "Each list's members by status. Double opt-in lists mail new members only once they "
        "confirm by email; public lists are offered on the signup page."
    )
    read_only_note: str = "Your role may look at lists but not change them."
    no_lists: str = "No list yet."
    column_name: str = "Name"
    column_title: str = "Title"
    column_confirmed: str = "Confirmed"
    column_unconfirmed: str = "Unconfirmed"
    column_unsubscribed: str = "Unsubscribed"
    column_visibility: str = "Visibility"
    column_opt_in: str = "Opt-in"
    public: str = "public"
    private: str = "private"
    double_opt_in: str = "double"
    single_opt_in: str = "single"
    more_lists: str = "More lists"
    first_lists: str = "First lists"
    create_heading: str = "Create a list"
    name_label: str = "Name (lower-case letters, digits, - and _)"
    title_label: str = "Title (shown to subscribers; the name if empty)"
    description_label: str = "Description"
    double_opt_in_label: str = "Double opt-in: new members confirm by email"
    public_label: str = "Public: offered on the signup page"
    create_button: str = "Create list"
    created: str = "List {name} is created."
    list_heading: str = "List {name}"
    back_to_lists: str = "All lists"
    edit_heading: str = "Change the list"
    save_button: str = "Save changes"
    saved: str = "List {name} is saved."
    unchanged: str = "Nothing was changed."
    delete_heading: str = "Delete the list"
    delete_link: str = "Delete this list\u2026"
    delete_title: str = "Delete list {name}?"
    delete_members: str = (
        "Its {total} memberships are deleted: {confirmed} confirmed, {unconfirmed} "
        "unconfirmed, {unsubscribed} unsubscribed. The subscribers themselves stay, and so "
        "does the record of who unsubscribed (should a list of this name come again)."
    )
    delete_campaigns: str = "Campaigns not yet done with this list (they lose it):"
    delete_no_campaigns: str = "No campaign is waiting to send to it."
    campaign_line: str = "#{id}: issue {issue}, {status}"
    scheduled_for: str = "for {at} UTC"
    delete_schedules: str = (
        "Recurring schedules that send to it (their ticks find no list until one of this "
        "name is created again):"
    )
    delete_no_schedules: str = "No recurring schedule sends to it."
    delete_button: str = "Delete list {name}"
    cancel_link: str = "Keep it"
    deleted: str = "List {name} is deleted ({memberships} memberships)."

    # The dashboard's list growth (mailer.services.list_growth).
    growth_heading: str = "List growth"
    growth_intro: str = (
        "From the consent record: joined is who subscribed or resubscribed, left is who "
        "unsubscribed, net is joined less left. People imported or added by an admin, and "
        "unsubscribed on the command line, leave no consent record and are not counted."
    )
    column_period: str = "Period"
    column_joined: str = "Joined"
    column_left: str = "Left"
    column_net: str = "Net"
    last_days: str = "last {days} days"

    suppressions_title: str = "Suppressions"
    suppressions_intro: str = (
        "Addresses that are never mailed, whatever list they are on. Lifting one lets the "
        "address be mailed again; the reason goes into the audit log."
    )
    prefix_label: str = "Addresses starting with"
    search_button: str = "Search"
    no_suppressions: str = "No suppression."
    column_email: str = "Address"
    column_reason: str = "Reason"
    column_detail: str = "Note"
    column_since: str = "Since (UTC)"
    column_actions: str = "Lift"
    erased: str = "(erased)"
    lift_reason_label: str = "Why lift it"
    lift_button: str = "Lift"
    lift_reason_missing: str = "say why the suppression is lifted"
    lifted: str = "{email} may be mailed again."
    add_suppression_heading: str = "Suppress an address"
    email_label: str = "Email address"
    reason_label: str = "Reason"
    detail_label: str = "Note (optional)"
    suppress_button: str = "Suppress"
    suppressed: str = "{email} is suppressed."
    suppressed_already: str = "{email} was suppressed already ({reason})."
    more_suppressions: str = "More addresses"
    first_suppressions: str = "First addresses"

    schedules_title: str = "Schedules"
    schedules_intro: str = (
        "Recurring sends: at each tick the oldest ready issue not yet sent to the list goes "
        "out. Add and remove them with `mailer schedules` or in the config file."
    )
    no_schedules: str = "No recurring schedule."
    column_schedule: str = "Schedule"
    column_cron: str = "Cron"
    column_zone: str = "Zone"
    column_list: str = "List"
    column_issues: str = "Issues"
    column_next: str = "Next tick"
    column_last: str = "Last tick (UTC)"
    column_result: str = "Last result"
    never: str = "never"
    no_next: str = "none"
    utc_time: str = "{at} UTC"
    from_config: str = "config file"
    more_schedules: str = "More schedules"
    first_schedules: str = "First schedules"

    field_too_long: str = "{field}: at most {limit} characters"
    field_control: str = "{field}: must not hold control characters"


# The one instance (frozen), the default of ``Strings.lists``.
LISTS_TEXT = ListsText()
