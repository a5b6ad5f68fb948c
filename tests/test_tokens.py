"""Merge tokens and per-recipient substitution."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from mailer.render.tokens import MergeTemplate, Recipient, header_safe, token

BODY = (
    f"<p>Hi {token('h', 'name')} ({token('h', 'email')}) 100% sure</p>"
    f'<a href="{token("h", "unsubscribe_url")}">x</a> {token("h", "attr.city")}'
)


def test_tokens_are_replaced_and_percent_signs_kept() -> None:
    merged = MergeTemplate(BODY).personalize(
        Recipient("a@example.com", "Ada", "https://x.example/u?a=1&b=2", "", {"city": "Xi'an"})
    )
    assert merged == (
        '<p>Hi Ada (a@example.com) 100% sure</p><a href="https://x.example/u?a=1&amp;b=2">x</a> '
        "Xi&#x27;an"
    )


def test_unknown_attribute_is_empty_and_body_without_tokens_is_unchanged() -> None:
    assert MergeTemplate("plain 50% {x}").personalize(Recipient("a@example.com")) == "plain 50% {x}"
    assert MergeTemplate(token("t", "attr.nope")).personalize(Recipient("a@example.com")) == ""


@given(st.text(), st.text())
def test_html_values_are_always_escaped_and_text_values_raw(name: str, city: str) -> None:
    reader = Recipient("a@example.com", name, attributes={"city": city})
    html_part = MergeTemplate(f"[{token('h', 'name')}|{token('h', 'attr.city')}]").personalize(
        reader
    )
    text_part = MergeTemplate(f"[{token('t', 'name')}|{token('t', 'attr.city')}]").personalize(
        reader
    )
    assert html_part == f"[{html.escape(name)}|{html.escape(city)}]"
    assert text_part == f"[{name}|{city}]"
    assert "<" not in html_part and '"' not in html_part


@given(st.text())
def test_header_safe_never_leaves_a_line_break(value: str) -> None:
    assert not set(header_safe(value)) & {"\r", "\n", "\x00", "\u2028", "\u2029"}
