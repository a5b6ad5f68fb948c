"""A cancelled campaign's unsent recipients are "not_sent" on the command line, not pending:
nothing will ever send to them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from mailer.delivery.campaigns import pause_campaign
from mailer.delivery.dispatcher import Dispatcher
from mailer.delivery.sending import campaign_content, plan_send, start_campaign
from mailer.delivery.transports.factory import make_transport
from mailer.emulator.server import SendGridEmulator
from tests.conftest import CliResult, Project
from tests.sending import API_KEY, fill_list, received, running_emulator, use_emulator

Cli = Callable[..., CliResult]


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator() as pair:
        yield pair


def three_of_ten_sent_then_paused(
    project: Project, cli: Cli, engine: sa.Engine, url: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    """A campaign to ten readers paused after its first batch of three."""
    use_emulator(project, url, batch_size=3, sendgrid="concurrency = 1\n")
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert cli("lists", "create", "weekly").code == 0
    fill_list(engine, 10)
    settings = project.settings()
    plan = plan_send(engine, settings, project.renderer(), "87", "weekly", transport="sendgrid")
    campaign_id = start_campaign(engine, plan)
    transport = make_transport("sendgrid", settings, {"SENDGRID_API_KEY": API_KEY})
    content = campaign_content(engine, settings, campaign_id)
    dispatcher = Dispatcher(engine, transport, content, b"k" * 32, settings.delivery)
    dispatcher.on_progress = lambda tally: pause_campaign(engine, campaign_id)
    try:
        assert dispatcher.run() == "paused"
    finally:
        transport.close()
    assert len(received(url)) == 3
    return campaign_id


def test_a_cancelled_campaign_shows_not_sent_instead_of_pending(
    db_project: Project,
    cli: Cli,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign_id = str(
        three_of_ten_sent_then_paused(db_project, cli, project_engine, emulator[1], monkeypatch)
    )
    paused = cli("campaigns", "show", campaign_id)
    assert "pending 7" in paused.out  # paused: resuming sends them
    assert json.loads(cli("campaigns", "show", campaign_id, "--json").out)["not_sent"] == 0

    cancelled = cli("campaigns", "cancel", campaign_id)
    assert cancelled.code == 0, cancelled.err
    assert "cancelled (3 were sent before; 7 will not be)" in cancelled.out

    shown = cli("campaigns", "show", campaign_id)
    [counts] = [line for line in shown.out.splitlines() if line.strip().startswith("counts:")]
    assert "pending" not in counts and "waiting" not in counts
    assert "sent 3" in counts and "not_sent 7" in counts

    # --json keeps the ledger's counts, same keys as ever, and says what will never go out.
    found = json.loads(cli("campaigns", "show", campaign_id, "--json").out)
    assert found["counts"]["pending"] == 7 and found["counts"]["sent"] == 3
    assert found["not_sent"] == 7
    [listed] = json.loads(cli("campaigns", "--json").out)
    assert listed["not_sent"] == 7
    assert "pending" not in cli("campaigns").out
