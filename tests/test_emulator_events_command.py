"""The `mailer emulate sendgrid --events-to` command as a process: it prints its public key,
posts what is left when stopped, fails its exit when events could not be delivered, and
refuses rates that cannot all happen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from mailer.emulator.webhook_key import WebhookKey
from tests.event_receiver import running_receiver
from tests.test_emulator_events import by_recipient, campaign, mail_send


def emulator_command(*args: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "MAILER_CONFIG"}
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "emulate", "sendgrid", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_the_command_prints_its_key_and_posts_what_is_left_when_stopped(tmp_path: Path) -> None:
    key_file = tmp_path / "events-key.pem"
    with running_receiver("") as receiver:
        # An hour between posts: the events can only come from the last flush at SIGTERM.
        process = emulator_command(
            "--events-to",
            receiver.url,
            "--events-key",
            str(key_file),
            "--events-interval",
            "3600",
            "--seed",
            "5",
        )
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        printed_key = process.stdout.readline().strip()
        receiver.public_key = printed_key
        assert printed_key == WebhookKey.from_file(key_file).public_base64()
        message_id = mail_send(url, campaign(20))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
    assert receiver.posts and all(post.verified for post in receiver.posts)
    assert len(by_recipient(receiver.stored)) == 20
    assert {event["sg_message_id"].split(".")[0] for event in receiver.stored} == {message_id}


def test_events_left_undelivered_at_the_stop_are_told_and_fail_the_exit(tmp_path: Path) -> None:
    key = WebhookKey.generate()
    with running_receiver(key.public_base64(), statuses=[500] * 10) as receiver:
        process = emulator_command(
            "--events-to",
            receiver.url,
            "--events-interval",
            "3600",
        )
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        mail_send(url, campaign(3))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "events were not delivered: the receiver answered 403" in err  # its own key


def test_rates_that_cannot_all_happen_and_a_url_that_is_not_http_are_refused() -> None:
    for args, message in (
        (("--drop-rate", "0.6", "--bounce-rate", "0.6"), "add up to more than 1"),
        (("--events-to", "ftp://127.0.0.1/events"), "give an http:// or https:// URL"),
    ):
        process = emulator_command(*args)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 1 and message in err and not out
