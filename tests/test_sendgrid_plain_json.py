"""A SendGrid request body is written one of two ways: the plain-batch writer (JSON text a
column at a time) or the general path (a dict per recipient, then orjson). For every batch
they must give the same bytes and leave out the same recipients, and the writer must not give
up on the batches a send is made of."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.config import NewsletterSettings, SendGridSettings
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.delivery.transports.sendgrid_payload import PayloadBuilder
from mailer.links import SubscriberLinks
from mailer.render.tokens import MergeTemplate, Recipient

KEY = b"property-test-signing-key-0123456789"
HTML = (
    "<p>Hi @@h.first_name@@ (@@h.name@@), you are @@h.email@@ in @@h.attr.city@@.</p>"
    '<a href="@@h.unsubscribe_url@@">leave</a> <a href="@@h.preferences_url@@">choose</a>'
)
TEXT = "Hi @@t.name@@ <@@t.email@@>\nLeave: @@t.unsubscribe_url@@\nCity: @@t.attr.city@@\n"

# Text that is mostly harmless, with now and then what JSON, HTML or a header must escape.
TRICKY = st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x7f", "\u2028", "&", "<", "'", "%s"])
WORDS = st.sampled_from(["Ada", "Lin", "王芳", "María", "Kenji", " ", "  ", "é", "🙂"])
TEXTS = st.lists(st.one_of(WORDS, WORDS, WORDS, TRICKY), max_size=6).map("".join)
PLAIN_TEXTS = st.lists(WORDS, max_size=6).map("".join)
LOCALS = st.sampled_from(["ada", "Ada", "lin.wei", "x+tag", "王芳", "o'neil"])
DOMAINS = st.sampled_from(["example.com", "mail.example.cn", "例子.中国"])


def builder(base_url: str = "https://news.example.com") -> PayloadBuilder:
    content = BatchContent(
        subject="Issue 1",
        html=MergeTemplate(HTML),
        text=MergeTemplate(TEXT),
        newsletter=NewsletterSettings(base_url=base_url),
        list_name="weekly",
        campaign_id=7,
    )
    return PayloadBuilder(content, SendGridSettings())


@st.composite
def batches(draw: st.DrawFn, plain: bool = False) -> list[Outgoing]:
    names = PLAIN_TEXTS if plain else TEXTS
    # Long values bring a recipient near SendGrid's 10,000 bytes of substitutions.
    cities = st.one_of(names, st.integers(0, 3000).map("x".__mul__) if plain else st.text())
    links = SubscriberLinks("https://news.example.com", KEY, "weekly")
    count = draw(st.integers(min_value=1, max_value=40))
    batch = []
    for key in range(1, count + 1):
        email = f"{draw(LOCALS)}{key % draw(st.sampled_from([1, 7, 1000]))}@{draw(DOMAINS)}"
        unsubscribe, preferences = links.urls(key * 3, email)
        city = draw(cities)
        attributes = {"city": city} if draw(st.booleans()) else {}
        recipient = Recipient(email, draw(names), unsubscribe, preferences, attributes)
        batch.append(Outgoing(key * 3, recipient))
    return batch


@settings(max_examples=300, deadline=None)
@given(batches())
def test_the_plain_writer_and_the_general_path_write_the_same_request(
    batch: list[Outgoing],
) -> None:
    payload = builder()
    assert payload.body(batch) == payload.general_body(batch)


@settings(max_examples=100, deadline=None)
@given(batches(plain=True))
def test_batches_of_plain_values_are_written_by_the_plain_writer(batch: list[Outgoing]) -> None:
    payload = builder()
    assert payload.plain_writer is not None
    seen: set[str] = set()
    unique = [
        item
        for item in batch
        if item.recipient.email.lower() not in seen and not seen.add(item.recipient.email.lower())
    ]
    written = payload.plain_writer.personalizations(unique)
    if max(len(str(item.recipient.attributes.get("city", ""))) for item in unique) < 2000:
        assert written is not None
        body, left_out = payload.general_body(unique)
        assert left_out == {}
        assert orjson.loads(body)["personalizations"] == orjson.loads(written)
        assert payload.body(unique) == (body, {})


def test_a_base_url_that_needs_escaping_takes_the_general_path() -> None:
    payload = builder('https://news.example.com/a"b')
    assert payload.plain_writer is None
