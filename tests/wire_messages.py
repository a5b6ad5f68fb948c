"""Each sample issue as mailer writes it on the wire: ``mailer render --format eml``, a file
the outbox transport wrote, and a message an aiosmtpd server received from the smtp
transport. Shared by the spam-score and line-length tests."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa

from tests.conftest import CliResult, Project, sample_issue_paths
from tests.sending import fill_list
from tests.smtp_inbox import smtp_inbox

Cli = Callable[..., CliResult]
SAMPLE_NUMBERS = [int(path.name[:4]) for path in sample_issue_paths()]
WAYS = ("eml", "outbox", "smtp")


def _send(cli: Cli, number: int, transport: str) -> int:
    """Issue ``number`` to the list named after the transport (an issue goes once a list)."""
    result = cli(
        "send",
        str(number),
        "--list",
        transport,
        "--transport",
        transport,
        "--allow-draft",
        "--yes",
        "--json",
    )
    assert result.code == 0, result.err
    campaign_id: int = json.loads(result.out)["id"]
    return campaign_id


def wire_messages(
    db_project: Project, cli: Cli, engine: sa.Engine, number: int
) -> dict[str, bytes]:
    """Issue ``number`` to one reader through each way mailer writes a message itself."""
    for transport in ("outbox", "smtp"):
        assert cli("lists", "create", transport).code == 0
        [reader] = fill_list(engine, 1, list_name=transport)
    eml = db_project.root / f"{number}.eml"
    rendered = cli("render", str(number), "--format", "eml", "--to", reader, "-o", str(eml))
    assert rendered.code == 0, rendered.err
    outbox_id = _send(cli, number, "outbox")
    [outbox_file] = (db_project.root / "var" / "outbox" / f"campaign-{outbox_id}").glob("*.eml")
    with smtp_inbox(smtputf8=False) as (inbox, port):
        with db_project.config.open("a", encoding="utf-8") as config:
            config.write(
                f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            )
        _send(cli, number, "smtp")
    [received] = inbox.messages
    return {"eml": eml.read_bytes(), "outbox": outbox_file.read_bytes(), "smtp": received.content}
