"""CSS inlining with premailer, configured for MJML's output.

premailer's defaults break MJML mail in four ways, each switched off here:
- ``strip_important``: it strips ``!important`` from the ``@media`` rules MJML's mobile layout
  depends on;
- its serializer drops a lowercase ``<!doctype html>``, putting clients into quirks mode, so the
  doctype MJML wrote is put back;
- it rewrites pixel ``width``/``height`` attributes on images from their CSS (``100%``), which
  Outlook then obeys;
- it fetches remote stylesheets over the network, and cssutils, which it parses CSS with,
  fetches every ``@import`` (MJML writes one per web font) even with ``allow_network=False``.
cssutils' complaints about vendor CSS it does not know are silenced: they are noise to a user.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import cssutils
import premailer

_DOCTYPE = re.compile(r"^\s*(<!doctype[^>]*>)", re.IGNORECASE)


def _quiet_cssutils() -> None:
    # Configured once here: premailer adds a new handler on every instance it is given one.
    cssutils.log.setLevel(logging.CRITICAL)
    cssutils_logger = logging.getLogger("CSSUTILS")
    cssutils_logger.addHandler(logging.NullHandler())
    cssutils_logger.propagate = False


_quiet_cssutils()


def _refuse_fetch(url: str) -> None:
    """cssutils fetcher that fetches nothing: an ``@import`` stays as written in the mail."""
    return None


@lru_cache(maxsize=256)
def _parse_stylesheet(css_body: str, validate: bool) -> object:
    parser = cssutils.CSSParser(fetcher=_refuse_fetch, validate=validate)
    return parser.parseString(css_body)


class _OfflinePremailer(premailer.Premailer):  # type: ignore[misc]
    def _parse_css_string(self, css_body: str, validate: bool = True) -> object:
        return _parse_stylesheet(css_body, validate)


def inline_css(html: str) -> str:
    doctype_match = _DOCTYPE.match(html)
    inliner = _OfflinePremailer(
        html,
        base_url=None,
        strip_important=False,
        keep_style_tags=True,
        remove_classes=False,
        disable_basic_attributes=["width", "height", "align", "bgcolor", "valign"],
        allow_network=False,
        allow_loading_external_files=False,
        allow_insecure_ssl=False,
    )
    inlined: str = inliner.transform()
    if doctype_match and not _DOCTYPE.match(inlined):
        inlined = f"{doctype_match.group(1)}\n{inlined}"
    return inlined
