"""The words of a campaign's report and recipients pages
(``/admin/campaigns/{id}/report`` and ``/recipients``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportsText:
    report_link: str = "Report"
    recipients_link: str = "Recipients"
    report_title: str = "Report of {label}"
    recipients_title: str = "Recipients of {label}"
    status_line: str = "Status: {status}. {sent} of {total} recipients sent."
    rates_note: str = (
        "Rates are over the recipients SendGrid delivered to. Machine opens (Apple Mail and "
        "others open every mail they fetch) and automated clicks (link scanners) are counted "
        "apart."
    )
    no_events: str = (
        "No event has come from SendGrid for this campaign yet: nothing was delivered, opened "
        "or clicked that we know of. Events come through the Event Webhook, usually within "
        "minutes of sending."
    )

    delivery_heading: str = "Delivery"
    figures: tuple[tuple[str, str], ...] = (
        ("total", "Recipients"),
        ("sent", "Sent"),
        ("processed", "Processed by SendGrid"),
        ("delivered", "Delivered"),
        ("deferred", "Deferred (tried again)"),
        ("bounced_permanent", "Bounced for good"),
        ("bounced_temporary", "Bounced for now"),
        ("dropped", "Dropped"),
        ("spam_reports", "Reported as spam"),
    )

    engagement_heading: str = "Opens and clicks"
    column_measure: str = "What"
    column_recipients: str = "Recipients"
    column_rate: str = "Of delivered"
    column_events: str = "Events"
    opened_row: str = "Opened"
    opened_human_row: str = "Opened, machine opens left out"
    clicked_row: str = "Clicked"
    clicked_human_row: str = "Clicked, automated clicks left out"
    machine_opens_row: str = "Machine opens"
    automated_clicks_row: str = "Automated clicks"

    unsubscribes_heading: str = "Unsubscribes"
    unsubscribe_figures: tuple[tuple[str, str], ...] = (
        ("one_click", "One-click (from the mail client)"),
        ("page", "From the unsubscribe page"),
        ("sendgrid", "Through SendGrid"),
    )
    unsubscribes_note: str = (
        "Our own links unsubscribe from the list, not from one mail: those counted here came "
        "from the campaign's start until the next campaign to the list started."
    )

    hours_heading: str = "Opens and clicks over time"
    hours_note: str = "Each pair of bars is {hours} h, from {first} to {last} (UTC)."
    hours_title: str = "Opens and clicks per {hours} h"
    hours_desc: str = (
        "Bar chart over time, {first} to {last} UTC: {opens} opens ({machine} by machines) and "
        "{clicks} clicks ({automated} automated); at most {peak} in one column."
    )
    no_hours: str = "Nobody has opened or clicked yet."
    series: tuple[tuple[str, str], ...] = (
        ("human_opens", "opens by people"),
        ("machine_opens", "machine opens"),
        ("human_clicks", "clicks by people"),
        ("automated_clicks", "automated clicks"),
    )
    column_time: str = "From (UTC)"
    show_table: str = "The same numbers as a table"

    bounces_heading: str = "Bounces by kind"
    bounces_title: str = "Recipients bounced, by kind and classification"
    bounces_desc: str = "Horizontal bar chart: {count} kinds of bounce, {recipients} recipients."
    no_bounces: str = "No bounce."
    column_kind: str = "Kind"
    bounce_kinds: tuple[tuple[str, str], ...] = (
        ("bounce", "Permanent"),
        ("blocked", "Temporary"),
    )
    unclassified: str = "unclassified"
    drops_heading: str = "Dropped by reason"
    column_reason: str = "Reason"

    links_heading: str = "Clicks by link"
    no_links: str = "No link was clicked."
    column_link: str = "Link"
    column_clickers: str = "Clicked by"
    column_clicks: str = "Clicks"
    column_human_clickers: str = "Clicked by, automated left out"
    column_human_clicks: str = "Clicks, automated left out"

    recipients_intro: str = (
        "Each recipient with what the ledger says (the send) and what SendGrid's events say "
        "(the mail), 100 a page."
    )
    status_label: str = "Send (ledger)"
    outcome_label: str = "Mail (events)"
    activity_label: str = "Opened or clicked"
    any_choice: str = "any"
    no_outcome_choice: str = "no event yet"
    activities: tuple[tuple[str, str], ...] = (
        ("opened", "opened"),
        ("opened_by_person", "opened by a person"),
        ("not_opened", "not opened"),
        ("clicked", "clicked"),
        ("clicked_by_person", "clicked by a person"),
        ("not_clicked", "not clicked"),
    )
    filter_button: str = "Show"
    column_subscriber: str = "Subscriber"
    column_status: str = "Send"
    column_outcome: str = "Mail"
    column_opened: str = "First opened (UTC)"
    column_clicked: str = "First clicked (UTC)"
    by_machine: str = "by a machine only"
    automated_only: str = "automated only"
    no_recipients: str = "No recipient matches."
    first_page: str = "First page"
    next_page: str = "Next page"
    pages_label: str = "Pages of recipients"
    bad_filter: str = "must not hold control characters"
    bad_after: str = "must be a subscriber number"

    def bounce_kind(self, bounce_type: str | None) -> str:
        return dict(self.bounce_kinds).get(bounce_type or "bounce", bounce_type or "")

    def activity(self, value: str) -> str:
        return dict(self.activities).get(value, value)


REPORTS_TEXT = ReportsText()
