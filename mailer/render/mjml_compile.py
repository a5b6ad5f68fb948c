"""MJML -> responsive HTML with mjml-python (a Rust port: fast, but it does not validate).

Unknown tags and attributes are silently dropped by the compiler; ``mailer check`` validates
the MJML separately (see ``mailer.checks.mjml_schema``).
"""

from __future__ import annotations

import re

import mjml

from mailer.errors import MailerError

_POSITION = re.compile(r"at position (\d+)(?::(\d+))?")


def _line_of(source: str, message: str) -> int | None:
    match = _POSITION.search(message)
    if match is None:
        return None
    if match.group(2) is not None:
        return int(match.group(1)) + 1
    return source.count("\n", 0, int(match.group(1))) + 1


def compile_mjml(source: str, template: str) -> str:
    try:
        html: str = mjml.mjml2html(source, disable_comments=True)
    except ValueError as exc:
        line = _line_of(source, str(exc))
        where = f" at line {line} of the MJML it produced" if line else ""
        raise MailerError(
            f"template {template!r}: MJML could not be compiled{where}: {exc}"
        ) from None
    return html
