"""An address as it goes into headers and the SMTP envelope: the domain in A-labels.

Addresses are stored as email-validator normalizes them, with an internationalized domain in
Unicode (``hdr6@bücher.de``). Mail servers and readers without RFC 6531/6532 support know the
domain only as its A-labels (``xn--bcher-kva.de``), and Python's email package, given the
Unicode form in a header, writes an encoded-word inside the address, which no reader takes for
an address. A non-ASCII local part has no ASCII form: such an address needs a server that
offers SMTPUTF8 and a message with UTF-8 headers.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class NoAsciiForm(ValueError):
    """The domain has no A-label form (it did not pass email-validator)."""


@lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """The domain in A-labels (IDNA 2008 with UTS #46, as email-validator converts it)."""
    if domain.isascii():
        return domain
    try:
        checked = validate_email(
            f"a@{domain}", check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as exc:
        raise NoAsciiForm(f"the domain {domain!r} has no ASCII form: {exc}") from None
    return checked.ascii_domain


def wire_address(email: str) -> str:
    """``local@domain`` with the domain in A-labels; the local part as it is. NoAsciiForm
    for a domain that has none."""
    if email.isascii():  # nearly every address: nothing to convert
        return email
    local, _, domain = email.rpartition("@")
    return f"{local}@{ascii_domain(domain)}"


def needs_smtputf8(address: str) -> bool:
    """Whether a wire address (see wire_address) can only go to an SMTPUTF8 server."""
    return not address.isascii()
