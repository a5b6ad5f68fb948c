"""Every sentence the public pages show a reader, in one place: to reword a page, or to
translate the pages, change them here (templates reach them as ``t.<name>``).

The newsletter's own name and texts come from the settings, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorText:
    title: str
    text: str


@dataclass(frozen=True)
class Strings:
    language: str = "en"
    skip_to_content: str = "Skip to the content"
    home_link: str = "Home"

    home_heading: str = "Welcome"
    home_text: str = (
        "Sign-up and past issues will be on this page soon. If you came here from an email, "
        "its links to unsubscribe and to change your preferences are what you need."
    )

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
