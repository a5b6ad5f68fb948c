"""MJML -> responsive HTML with mjml-python (a Rust port: fast, but it does not validate).

Unknown tags and attributes are silently dropped by the compiler; ``mailer check`` validates
the MJML separately (see ``mailer.checks.mjml_schema``).

The preheader (``<mj-preview>``) is hidden the way large senders hide it: not displayed, no
height, and for Outlook ``mso-hide``. MJML also paints it the white of a page, which spam
filters score as hidden text in the background colour (SpamAssassin's HTML_FONT_LOW_CONTRAST),
so that style is replaced here.
"""

from __future__ import annotations

import re

import mjml

from mailer.errors import MailerError

# The style mjml-python gives the <div> around the <mj-preview> text, and the one given instead.
MJML_PREVIEW_STYLE = (
    "display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;"
    "opacity:0;overflow:hidden;"
)
PREVIEW_STYLE = (
    "display:none;font-size:0;line-height:0;max-height:0;max-width:0;opacity:0;overflow:hidden;"
    "mso-hide:all;"
)
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
    return html.replace(f'<div style="{MJML_PREVIEW_STYLE}">', f'<div style="{PREVIEW_STYLE}">', 1)
