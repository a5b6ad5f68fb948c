"""Subscribers through the actions layer: each change refuses a role without
``manage_audience`` and writes nothing; each is audited in its own transaction; a
resubscribe needs its reason and lifts only a suppression for leaving every list; a forget
leaves the address nowhere in the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.accounts.audit import entries, record
from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Principal, Role
from mailer.actions import lists, subscribers, suppressions
from mailer.actions.subscribers import NewSubscriber
from mailer.app import Mailer
from mailer.audience.addresses import address_hash
from mailer.audience.subscribers import show_subscriber
from mailer.db.engine import write_transaction
from mailer.db.tables import audit_log, consent_events
from mailer.errors import ConflictError, FieldError, NotFoundError
from tests.conftest import Project

VIEWER = Principal("user", "vera@example.com", Role.VIEWER, False, user_id=1)
EDITOR = Principal("user", "ed@example.com", Role.EDITOR, False, user_id=2)
ADMIN = Principal("token", "deploy", Role.ADMIN, True, token_id=3)


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    mailer = Mailer(db_project.settings())
    lists.create_list(mailer, ADMIN, "weekly", title="Weekly")
    lists.create_list(mailer, ADMIN, "daily", double_opt_in=True)
    subscribers.add_subscriber(
        mailer, ADMIN, "Ann@Example.com", lists=["weekly"], name="Ann", attributes={"city": "Xi'an"}
    )
    yield mailer
    mailer.close()


CHANGES: list[Callable[[Mailer, Principal], Any]] = [
    lambda mailer, who: subscribers.add_subscriber(
        mailer, who, "new@example.com", lists=["weekly"]
    ),
    lambda mailer, who: subscribers.add_subscribers_bulk(
        mailer, who, [NewSubscriber("new@example.com")], list_name="weekly"
    ),
    lambda mailer, who: subscribers.edit_subscriber(mailer, who, "ann@example.com", name="X"),
    lambda mailer, who: subscribers.unsubscribe(
        mailer, who, "ann@example.com", list_name=None, reason="asked"
    ),
    lambda mailer, who: subscribers.resubscribe(
        mailer, who, "ann@example.com", list_name="weekly", reason="asked"
    ),
    lambda mailer, who: subscribers.forget(mailer, who, "ann@example.com"),
]


@pytest.mark.parametrize("who", [VIEWER, EDITOR], ids=["viewer", "editor"])
def test_each_change_refuses_a_role_without_manage_audience_and_writes_nothing(
    mailer: Mailer, who: Principal
) -> None:
    before = len(entries(mailer))
    for change in CHANGES:
        with pytest.raises(Forbidden, match=f"{who.role} {who.name} may not manage lists"):
            change(mailer, who)
    view = subscribers.subscriber_view(mailer, who, "ann@example.com")
    assert view.detail.subscriber.name == "Ann"
    assert [(m.list_name, m.status) for m in view.detail.memberships] == [("weekly", "confirmed")]
    page = subscribers.search(
        mailer, who, query=None, list_name=None, status=None, segment=None, after=None, limit=10
    )
    assert [found.email for found in page.items] == ["Ann@example.com"]
    assert len(entries(mailer)) == before


def test_add_edit_and_unsubscribe_are_audited_with_what_changed(mailer: Mailer) -> None:
    view = subscribers.edit_subscriber(
        mailer,
        ADMIN,
        "ann@example.com",
        name="  Ann   Lin ",
        timezone="Asia/Shanghai",
        attributes={"City": "", "Tags": "ai; policy"},
    )
    assert view.detail.subscriber.name == "Ann Lin"
    assert view.detail.subscriber.attributes == {"tags": ["ai", "policy"]}
    # The same edit again changes nothing, and writes no entry.
    subscribers.edit_subscriber(mailer, ADMIN, "ann@example.com", name="Ann Lin")
    changed = subscribers.unsubscribe(
        mailer, ADMIN, "ann@example.com", list_name="weekly", reason="asked by mail"
    )
    assert changed == ["weekly"]
    logged = [(e.actor, e.action, e.target, e.detail) for e in reversed(entries(mailer))]
    assert logged[-3:] == [
        (
            "token:deploy",
            "subscriber.add",
            "Ann@example.com",
            {"lists": {"weekly": "imported"}, "confirmed": False},
        ),
        (
            "token:deploy",
            "subscriber.edit",
            "Ann@example.com",
            {
                "name": {"from": "Ann", "to": "Ann Lin"},
                "timezone": {"from": None, "to": "Asia/Shanghai"},
                "attributes": {
                    "city": {"from": "Xi'an", "to": None},
                    "tags": {"from": None, "to": ["ai", "policy"]},
                },
            },
        ),
        (
            "token:deploy",
            "subscriber.unsubscribe",
            "Ann@example.com",
            {"list": "weekly", "changed": ["weekly"], "reason": "asked by mail"},
        ),
    ]
    with mailer.engine.connect() as connection:
        consent = connection.execute(
            sa.select(consent_events.c.action, consent_events.c.source)
        ).all()
    assert [tuple(row) for row in consent] == [("unsubscribe", "admin token:deploy")]


def test_bad_fields_are_refused_by_name_and_write_nothing(mailer: Mailer) -> None:
    before = len(entries(mailer))
    refusals: dict[str, Callable[[], Any]] = {
        "email": lambda: subscribers.add_subscriber(
            mailer, ADMIN, "not an address", lists=["weekly"]
        ),
        "name": lambda: subscribers.edit_subscriber(mailer, ADMIN, "ann@example.com", name="a\x00"),
        "timezone": lambda: subscribers.edit_subscriber(
            mailer, ADMIN, "ann@example.com", timezone="Mars/Olympus"
        ),
        "attributes": lambda: subscribers.edit_subscriber(
            mailer, ADMIN, "ann@example.com", attributes={"email": "x"}
        ),
        "lists": lambda: subscribers.add_subscriber(
            mailer, ADMIN, "new@example.com", lists=["nope"]
        ),
    }
    for field, change in refusals.items():
        with pytest.raises(FieldError) as refused:
            change()
        assert refused.value.field == field
    with pytest.raises(NotFoundError, match=r"no subscriber nobody@example\.com"):
        subscribers.subscriber_view(mailer, VIEWER, "nobody@example.com")
    assert len(entries(mailer)) == before
    assert show_subscriber(mailer.engine, "ann@example.com").subscriber.name == "Ann"


def test_bulk_add_skips_bad_rows_by_index_and_audits_the_counts(mailer: Mailer) -> None:
    subscribers.unsubscribe(mailer, ADMIN, "ann@example.com", list_name="weekly", reason="")
    outcomes = subscribers.add_subscribers_bulk(
        mailer,
        ADMIN,
        [
            NewSubscriber("bo@example.com", name="Bo"),
            NewSubscriber("<script>alert(1)</script>"),
            NewSubscriber("cy@example.com", timezone="Nowhere/Else"),
            NewSubscriber("ann@example.com"),
            NewSubscriber("BO@example.com", attributes={"city": "Lhasa"}),
        ],
        list_name="daily",
        confirmed=True,
    )
    assert [(o.index, o.outcome, o.field) for o in outcomes] == [
        (0, "imported", None),
        (1, "rejected", "email"),
        (2, "rejected", "timezone"),
        (3, "imported", None),  # left weekly, never daily
        (4, "updated", None),
    ]
    bo = show_subscriber(mailer.engine, "bo@example.com")
    assert (bo.subscriber.name, bo.subscriber.attributes) == ("Bo", {"city": "Lhasa"})
    assert [(m.list_name, m.status) for m in bo.memberships] == [("daily", "confirmed")]
    last = entries(mailer, limit=1)[0]
    assert (last.action, last.target) == ("subscriber.bulk_add", "daily")
    assert last.detail == {
        "rows": 5,
        "confirmed": True,
        "counts": {"imported": 2, "rejected": 2, "updated": 1},
    }
    with pytest.raises(FieldError) as too_many:
        subscribers.add_subscribers_bulk(
            mailer,
            ADMIN,
            [NewSubscriber(f"p{n}@example.com") for n in range(1001)],
            list_name="daily",
        )
    assert too_many.value.field == "rows"


def test_resubscribe_needs_a_reason_and_lifts_only_an_unsubscribe_suppression(
    mailer: Mailer,
) -> None:
    subscribers.unsubscribe(mailer, ADMIN, "ann@example.com", list_name=None, reason="")
    assert show_subscriber(mailer.engine, "ann@example.com").suppression is not None
    for blank in ("", "   "):
        with pytest.raises(FieldError) as refused:
            subscribers.resubscribe(
                mailer, ADMIN, "ann@example.com", list_name="weekly", reason=blank
            )
        assert refused.value.field == "reason"
    view = subscribers.resubscribe(
        mailer, ADMIN, "ann@example.com", list_name="weekly", reason="asked by reply"
    )
    assert [(m.list_name, m.status) for m in view.detail.memberships] == [("weekly", "confirmed")]
    assert view.detail.suppression is None
    last = entries(mailer, limit=1)[0]
    assert (last.action, last.detail) == (
        "subscriber.resubscribe",
        {
            "list": "weekly",
            "status": "confirmed",
            "lifted_suppression": True,
            "reason": "asked by reply",
        },
    )
    with pytest.raises(ConflictError, match="is confirmed on the list 'weekly' already"):
        subscribers.resubscribe(mailer, ADMIN, "ann@example.com", list_name="weekly", reason="x")
    with pytest.raises(NotFoundError, match="not on the list 'daily'"):
        subscribers.resubscribe(mailer, ADMIN, "ann@example.com", list_name="daily", reason="x")


def test_resubscribe_refuses_a_bounce_until_it_is_lifted_and_keeps_double_opt_in(
    mailer: Mailer,
) -> None:
    subscribers.add_subscriber(mailer, ADMIN, "ann@example.com", lists=["daily"])
    subscribers.unsubscribe(mailer, ADMIN, "ann@example.com", list_name="daily", reason="")
    suppressions.suppress(mailer, ADMIN, "ann@example.com", "bounce", "mailbox full")
    with pytest.raises(ConflictError, match=r"suppressed for .bounce. \(mailbox full\); lift the"):
        subscribers.resubscribe(mailer, ADMIN, "ann@example.com", list_name="daily", reason="x")
    suppressions.unsuppress(mailer, ADMIN, "ann@example.com", "mailbox fixed")
    view = subscribers.resubscribe(
        mailer, ADMIN, "ann@example.com", list_name="daily", reason="asked"
    )
    statuses = {m.list_name: m.status for m in view.detail.memberships}
    assert statuses == {"daily": "unconfirmed", "weekly": "confirmed"}


def test_forget_leaves_no_address_in_the_audit_log(mailer: Mailer) -> None:
    subscribers.edit_subscriber(mailer, ADMIN, "ann@example.com", name="Ann Lin")
    suppressions.suppress(mailer, ADMIN, "ann@example.com", "manual", "ann asked")
    subscribers.add_subscriber(mailer, ADMIN, "bo@example.com", lists=["weekly"])
    with write_transaction(mailer.engine) as connection:  # an account of the same address
        record(connection, "cli", "user.add", "ann@example.com", {"role": "viewer"}, mailer.clock())
    subscribers.forget(mailer, ADMIN, "ANN@example.com")
    account = entries(mailer, action_prefix="user.")
    assert [(e.target, e.detail) for e in account] == [("ann@example.com", {"role": "viewer"})]
    with write_transaction(mailer.engine) as connection:
        connection.execute(sa.delete(audit_log).where(audit_log.c.action == "user.add"))
    with mailer.engine.connect() as connection:
        logged = connection.execute(sa.select(audit_log)).all()
    text = repr([tuple(row) for row in logged]).lower()
    assert "ann@example.com" not in text and "ann lin" not in text and "xi'an" not in text
    hashed = address_hash("ann@example.com")
    assert entries(mailer, limit=1)[0].action == "subscriber.forget"
    assert [e.action for e in entries(mailer) if e.target == hashed][:2] == [
        "subscriber.forget",
        "suppression.add",
    ]
    assert "bo@example.com" in text  # others keep theirs
    with pytest.raises(NotFoundError):
        subscribers.subscriber_view(mailer, ADMIN, "ann@example.com")
