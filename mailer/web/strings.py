"""Every sentence the public pages show a reader, in one place: to reword a page, or to
translate the pages, change them here (templates reach them as ``t.<name>``).

The newsletter's own name and texts come from the settings, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
        "Check your inbox: we have sent you a message with a link to confirm your "
        "subscription to:"
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
