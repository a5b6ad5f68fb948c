"""Reading a POST's events quickly reads them as reading each on its own does: an address
named again in the POST gets the key its first mention got, and an id is taken or refused
as the ASCII-digits rule says."""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.events.parse import ID_MAX, parse_batch, parse_event, parse_id

ADDRESSES = st.one_of(
    st.sampled_from(["ada@example.com", "Ada@Example.COM", " ada@example.com ", "bad@", "x"]),
    st.emails().map(str),
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none(),
)
IDS = st.one_of(
    st.sampled_from(["7", "007", "1e9", "-1", "\u0661\u0662", "", "9" * 19, "9" * 20, "0", " 7"]),
    st.text(alphabet="0123456789\u0660\u0661\u00b2\u00b3 x-", max_size=21),
    st.integers(min_value=-5, max_value=2**64 - 1),  # as far as orjson reads and writes
    st.booleans(),
    st.none(),
)


def _event(number: int, email: Any, subscriber: Any) -> dict[str, Any]:
    return {
        "event": "delivered",
        "sg_event_id": f"e{number}",
        "timestamp": 1_700_000_000 + number,
        "email": email,
        "mailer_subscriber": subscriber,
    }


@settings(max_examples=300)
@given(st.lists(st.tuples(ADDRESSES, IDS), max_size=12))
def test_a_post_is_read_as_each_event_alone(pairs: list[tuple[Any, Any]]) -> None:
    items = [_event(n, email, subscriber) for n, (email, subscriber) in enumerate(pairs)]
    batch = parse_batch(orjson.dumps(items))
    assert batch.events == [parse_event(item) for item in items]


@settings(max_examples=500)
@given(IDS)
def test_an_id_is_taken_only_as_ascii_digits_in_range(value: Any) -> None:
    if isinstance(value, str):
        expected = int(value) if re.fullmatch(r"[0-9]{1,19}", value) else None
        expected = expected if expected and expected <= ID_MAX else None
    elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX:
        expected = value
    else:
        expected = None
    assert parse_id(value, ID_MAX) == expected
