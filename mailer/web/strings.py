"""Every sentence the pages show a reader, and the admin app its users, in one place: to
reword a page, or to translate the pages, change them here (templates reach them as ``t.<name>``).

The newsletter's own name and texts come from the settings, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mailer.web.strings_campaigns import CAMPAIGN_TEXT, CampaignText
from mailer.web.strings_imports import IMPORTS_TEXT, ImportsText
from mailer.web.strings_issues import ISSUES_TEXT, IssuesText
from mailer.web.strings_lists import LISTS_TEXT, ListsText
from mailer.web.strings_reports import REPORTS_TEXT, ReportsText
from mailer.web.strings_subscribers import SUBSCRIBERS_TEXT, SubscribersText
from mailer.web.strings_tokens import TOKENS_TEXT, TokensText
from mailer.web.strings_workers import WORKERS_TEXT, WorkersText


@dataclass(frozen=True)
class ErrorText:
    title: str
    text: str


@dataclass(frozen=True)
class SignupText:
    """The signup form and the confirmation pages."""

    title: str = "Sign up"
    intro: str = "Get it by email. Choose what you would like to receive."
    email_label: str = "Email address"
    name_label: str = "Name (optional)"
    lists_legend: str = "Lists"
    honeypot_label: str = "Leave this field empty"
    submit: str = "Sign up"
    privacy: str = (
        "Your address is used only to send you what you chose. Every message has a link to "
        "leave, and you can change your mind at any time."
    )
    no_lists: str = "There is nothing to sign up to at the moment."
    errors_heading: str = "Please check the form"
    field_names: tuple[tuple[str, str], ...] = (
        ("email", "Email address"),
        ("name", "Name"),
        ("lists", "Lists"),
    )
    form_expired: str = (
        "This form was open for a long time, or came from another network, so it was not "
        "sent. Check what you entered and press the button again."
    )
    thanks_title: str = "Thank you"
    thanks_confirm: str = (
        "Check your inbox: we have sent you a message with a link to confirm your subscription to:"
    )
    thanks_confirm_note: str = (
        "Nothing from these lists will come until you press it. If no message arrives within "
        "a few minutes, look in your spam folder."
    )
    thanks_subscribed: str = "Thank you for subscribing to:"
    thanks_returning: str = (
        "If you had unsubscribed before, we have sent a message to confirm that it is you."
    )
    confirm_title: str = "Confirm your subscription"
    confirm_text: str = "Press the button to confirm your subscription to:"
    confirm_button: str = "Confirm my subscription"
    confirmed_title: str = "Subscription confirmed"
    confirmed_text: str = "Thank you. You will receive:"
    nothing_pending_title: str = "Nothing to confirm"
    nothing_pending_text: str = (
        "This link has nothing left to confirm: the subscription is confirmed already, or "
        "was ended after this message was sent. To subscribe again, sign up once more."
    )
    link_invalid: ErrorText = ErrorText(
        "This link does not work",
        "The link may have been cut short or changed on its way. Copy the whole address from "
        "the message into your browser, or sign up again.",
    )
    link_from_test_copy: ErrorText = ErrorText(
        "This link comes from a test copy",
        "It comes from a test copy or a preview of a message, so it confirms nobody.",
    )

    def field_name(self, field: str) -> str:
        return dict(self.field_names).get(field, field)


@dataclass(frozen=True)
class UnsubscribeText:
    """The pages an unsubscribe link opens."""

    ask_title: str = "Unsubscribe"
    ask_text: str = "Press the button to stop receiving:"
    ask_everything: str = "Press the button to stop receiving every list."
    button: str = "Unsubscribe"
    done_title: str = "You are unsubscribed"
    done_text: str = "You will no longer receive:"
    done_everything: str = "You will no longer receive any of our lists."
    undo_text: str = "Did you press it by mistake?"
    undo_button: str = "Subscribe me again"
    undone_title: str = "You are subscribed again"
    undone_text: str = "Welcome back. You will receive:"
    test_copy_title: str = "A link from a test copy"
    test_copy_text: str = (
        "This link comes from a test copy or a preview of an issue, so it does not unsubscribe "
        "anyone. In a real issue, the same link unsubscribes its reader."
    )
    preferences_link: str = "Change what you receive instead"


@dataclass(frozen=True)
class PreferencesText:
    """A subscriber's own preferences page."""

    title: str = "Your preferences"
    intro: str = "Choose what you receive from us, and how we address you."
    address: str = "These preferences are for"
    lists_legend: str = "What you receive"
    no_lists: str = "There are no lists to choose from."
    name_label: str = "Name"
    timezone_label: str = "Time zone (issues sent at a set local time arrive at that time in it)"
    timezone_unknown: str = "Not set (the newsletter's own)"
    save: str = "Save my preferences"
    saved: str = "Your preferences are saved."
    errors_heading: str = "Please check the form"
    field_names: tuple[tuple[str, str], ...] = (
        ("name", "Name"),
        ("timezone", "Time zone"),
        ("lists", "What you receive"),
    )
    leave_heading: str = "Leave everything"
    leave_text: str = "Stop every list at once. No list we start later will write to you either."
    leave_button: str = "Unsubscribe from everything"
    left: str = "You are unsubscribed from everything."
    data_heading: str = "Your data"
    data_text: str = "Download everything we keep about you, as a JSON file."
    data_link: str = "Download my data"
    erase_heading: str = "Erase me"
    erase_text: str = (
        "Delete everything we keep about you. Only a one-way fingerprint of your address stays, "
        "so that no list mails you again by mistake."
    )
    erase_link: str = "Erase my data"
    erase_confirm_title: str = "Erase your data?"
    erase_confirm_text: str = (
        "This cannot be undone: your subscriptions, your name and the record of what we sent "
        "you are deleted, and this page stops working."
    )
    erase_button: str = "Yes, erase everything"
    erase_cancel: str = "No, go back"
    erased_title: str = "Your data is erased"
    erased_text: str = "We keep nothing about you now, and no list will write to you again."


@dataclass(frozen=True)
class ArchiveText:
    """The archive of past issues, its feed, and the home page that shows the latest."""

    title: str = "Past issues"
    intro: str = "Every issue we have sent, newest first."
    empty: str = "No issue has been sent yet."
    issue_label: str = "Issue {number}"
    pages_label: str = "More issues"
    older: str = "Older issues"
    newer: str = "Newer issues"
    feed_link: str = "Follow the archive in a feed reader (Atom)"
    feed_subtitle: str = "Every issue of {name}, as it was sent."
    all_issues: str = "All past issues"
    sign_up: str = "Sign up"
    reader_name: str = "reader"
    """What an issue's merge fields call its reader in the archive (``Hi {{ name }}``)."""
    home_title: str = "Home"
    home_signup_heading: str = "Get it by email"
    home_signup_text: str = "Every new issue in your inbox. Choose the lists you want."
    home_latest_heading: str = "Latest issues"
    home_mail_links: str = (
        "Came here from an email? Its own links to unsubscribe and to change your preferences "
        "are the ones that work for you."
    )
    months: str = (
        "January February March April May June July August September October November December"
    )
    """The months' names, in order, separated by spaces."""

    def day(self, day: date) -> str:
        """A day as readers read it: 18 November 2018."""
        return f"{day.day} {self.months.split()[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class AdminText:
    """The admin app (``/admin``): its layout, log-in, account, dashboard, users and audit log."""

    app_name: str = "Admin"
    nav_label: str = "Admin sections"
    nav: tuple[tuple[str, str], ...] = (
        ("dashboard", "Dashboard"),
        ("issues", "Issues"),
        ("campaigns", "Campaigns"),
        ("lists", "Lists"),
        ("subscribers", "Subscribers"),
        ("imports", "Imports"),
        ("suppressions", "Suppressions"),
        ("schedules", "Schedules"),
        ("users", "Users"),
        ("tokens", "Tokens"),
        ("audit", "Audit"),
    )
    signed_in_as: str = "Logged in as {name} ({role})"
    account_link: str = "Change password"
    log_out: str = "Log out"
    log_out_everywhere: str = "Log out everywhere"
    log_out_everywhere_text: str = "Ends your sessions in every other browser and this one."

    login_title: str = "Log in"
    login_intro: str = "Log in to manage the newsletter."
    email_label: str = "Email address"
    password_label: str = "Password"
    login_button: str = "Log in"
    login_refused: str = "Wrong email or password."
    throttled_title: str = "Too many tries"
    throttled_text: str = (
        "There were too many failed log-ins for this account or from your network. "
        "Try again {later}."
    )
    in_minutes: str = "in {minutes} minutes"
    in_a_minute: str = "in a minute"
    logged_out: str = "You are logged out."
    logged_out_everywhere: str = "You are logged out in every browser."
    login_needed_title: str = "Log in first"
    login_needed_text: str = "This page is for people who are logged in."

    forbidden_title: str = "Not allowed"
    forbidden_text: str = "Your role does not include this: {missing}."
    forbidden_detail: str = "Ask an owner to change your role if you need it."
    permissions: tuple[tuple[str, str], ...] = (
        ("read", "seeing the admin pages"),
        ("edit_issues", "editing issues"),
        ("manage_audience", "managing lists and subscribers"),
        ("manage_campaigns", "managing campaigns"),
        ("send", "sending campaigns"),
        ("manage_users", "managing users and tokens"),
        ("view_audit", "seeing the audit log"),
    )

    password_title: str = "Change your password"
    password_intro: str = (
        "At least 12 characters; a phrase of several words is easy to remember and hard to "
        "guess. Changing it logs you out in every other browser."
    )
    current_password_label: str = "Current password"
    new_password_label: str = "New password"
    repeat_password_label: str = "New password again"
    password_button: str = "Change password"
    password_changed: str = "Your password is changed. Other browsers are logged out."
    current_password_wrong: str = "The current password is wrong."
    passwords_differ: str = "The two new passwords are not the same."

    dashboard_title: str = "Dashboard"
    recent_heading: str = "Recent campaigns"
    no_campaigns: str = "No campaign yet."
    upcoming_heading: str = "Upcoming sends"
    no_upcoming: str = "Nothing is scheduled."
    attention_heading: str = "Needs attention"
    no_attention: str = "Nothing needs attention."
    paused_note: str = "paused"
    in_doubt_note: str = "{count} recipients in doubt"
    lists_heading: str = "Lists"
    no_lists: str = "No list yet."
    column_campaign: str = "Campaign"
    column_status: str = "Status"
    column_ledger: str = "Sent / total"
    column_events: str = "Delivered · opened · clicked"
    column_when: str = "When"
    column_list: str = "List"
    column_confirmed: str = "Confirmed"
    column_unconfirmed: str = "Unconfirmed"
    column_unsubscribed: str = "Unsubscribed"
    campaign_label: str = "#{id} issue {issue} to {list}"
    no_events: str = "no events yet"

    users_title: str = "Users"
    users_intro: str = (
        "Owners do everything; admins manage the audience and campaigns; editors edit issues; "
        "viewers only look. Sending needs \u201ccan send\u201d (owners always can)."
    )
    column_email: str = "Email"
    column_role: str = "Role"
    column_can_send: str = "Can send"
    column_actions: str = "Actions"
    yes: str = "yes"
    no: str = "no"
    role_label: str = "Role"
    can_send_label: str = "Can send campaigns"
    change_button: str = "Change"
    remove_button: str = "Remove"
    remove_confirm: str = "Remove {email}? They are logged out at once."
    end_sessions_button: str = "Log out"
    add_heading: str = "Add a user"
    initial_password_label: str = "Initial password (they can change it)"
    add_button: str = "Add user"
    user_added: str = "{email} is added."
    user_changed: str = "{email} is now {role}."
    user_removed: str = "{email} is removed and logged out."
    user_logged_out: str = "{email} is logged out everywhere."
    you: str = "(you)"

    audit_title: str = "Audit log"
    audit_intro: str = "Every change made through the admin app, the API and the command line."
    action_filter_label: str = "Actions starting with"
    filter_button: str = "Show"
    column_at: str = "When (UTC)"
    column_actor: str = "Who"
    column_action: str = "What"
    column_target: str = "On"
    column_detail: str = "Detail"
    no_entries: str = "No entries."
    older_entries: str = "Older entries"
    newest_entries: str = "Newest entries"

    def throttled(self, minutes: int) -> str:
        later = self.in_a_minute if minutes <= 1 else self.in_minutes.format(minutes=minutes)
        return self.throttled_text.format(later=later)

    def permission(self, name: str) -> str:
        return dict(self.permissions).get(name, name)


@dataclass(frozen=True)
class Strings:
    language: str = "en"
    skip_to_content: str = "Skip to the content"
    home_link: str = "Home"

    signup: SignupText = SignupText()

    archive: ArchiveText = ArchiveText()

    not_found: ErrorText = ErrorText(
        "Page not found", "There is no page at this address. Check the link for a typo."
    )
    not_found_path: str = "Address asked for:"
    forbidden: ErrorText = ErrorText(
        "The form could not be sent",
        "This page was open too long or was sent from somewhere else, so the form was "
        "refused to keep your account safe. Go back, reload the page and try again. "
        "Your browser must accept cookies from this site.",
    )
    method_not_allowed: ErrorText = ErrorText(
        "Not allowed here", "This address does not take that kind of request."
    )
    too_large: ErrorText = ErrorText(
        "Too much to send", "What the form sent is larger than this site accepts."
    )
    too_many_requests: ErrorText = ErrorText(
        "Too many tries",
        "There were too many requests from you in a short time. Wait a little, then try again.",
    )
    server_error: ErrorText = ErrorText(
        "Something went wrong",
        "The page could not be shown because of a problem on our side. Please try again later.",
    )
    unavailable: ErrorText = ErrorText(
        "Not available right now", "The site cannot answer at the moment. Try again shortly."
    )
    other_error: ErrorText = ErrorText(
        "The request could not be answered", "Check the address, then try again."
    )

    unsubscribe: UnsubscribeText = UnsubscribeText()
    preferences: PreferencesText = PreferencesText()
    admin: AdminText = AdminText()
    campaigns: CampaignText = CAMPAIGN_TEXT
    imports: ImportsText = IMPORTS_TEXT
    issues: IssuesText = ISSUES_TEXT
    lists: ListsText = LISTS_TEXT
    reports: ReportsText = REPORTS_TEXT
    subscribers: SubscribersText = SUBSCRIBERS_TEXT
    tokens: TokensText = TOKENS_TEXT
    workers: WorkersText = WORKERS_TEXT

    def error(self, status_code: int) -> ErrorText:
        """The title and text of the error page for an HTTP status."""
        return {
            403: self.forbidden,
            404: self.not_found,
            405: self.method_not_allowed,
            413: self.too_large,
            429: self.too_many_requests,
            500: self.server_error,
            503: self.unavailable,
        }.get(status_code, self.other_error)


STRINGS = Strings()
