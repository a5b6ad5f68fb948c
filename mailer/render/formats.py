"""What ``mailer render`` can write; a module of its own so the CLI can name the choices
without loading the render pipeline."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    html = "html"
    text = "text"
    eml = "eml"
    mjml = "mjml"
