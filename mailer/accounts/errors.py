"""The errors of accounts: an action the role does not allow, a login refused or held back."""

from __future__ import annotations

from mailer.errors import MailerError


class Forbidden(MailerError):
    """The principal's role does not allow the action (a web face answers 403)."""

    def __init__(self, who: str, permission: str, doing: str) -> None:
        self.who = who
        self.permission = permission
        self.doing = doing
        super().__init__(f"{who} may not {doing}")

    def __reduce__(self) -> tuple[type[Forbidden], tuple[str, str, str]]:
        return (type(self), (self.who, self.permission, self.doing))


class LoginRefused(MailerError):
    """Wrong email or password; the same words whichever it was, so that a login form does
    not tell who has an account."""

    MESSAGE = "Wrong email or password."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class LoginThrottled(MailerError):
    """Too many wrong passwords lately, for the account or from the address; ``retry_after``
    is the number of seconds until logins are taken again (a web face's Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        later = "in a minute" if minutes == 1 else f"in {minutes} minutes"
        super().__init__(f"Too many failed logins; try again {later}.")

    def __reduce__(self) -> tuple[type[LoginThrottled], tuple[int]]:
        return (type(self), (self.retry_after,))
