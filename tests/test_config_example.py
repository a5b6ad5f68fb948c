"""config.example.toml says what the settings themselves say: every key with its built-in
default, no key the settings lack, and only `mailer` commands and options that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer

from mailer.cli import app
from mailer.config import RecurringSchedule, Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"

# Keys whose value in the example is not the built-in default, each with the reason.
EXAMPLE_ONLY = {
    # Empty by default, which `mailer check` reports as an error: the example carries a
    # made-up address so that a project started from it passes its checks.
    "newsletter.postal_address": "Room 1201, 88 Example Road, Shanghai 200000, China",
}


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def example_values() -> dict[str, Any]:
    return flatten(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))


def default_values() -> dict[str, Any]:
    return flatten(Settings().model_dump(mode="json", exclude={"source"}))


def comment_text() -> str:
    """The example's comments as one line of prose (a command may wrap over two lines)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return " ".join(line.strip().lstrip("#").strip() for line in lines if line.strip())


def test_the_example_has_every_setting_and_no_other() -> None:
    example, defaults = example_values(), default_values()
    assert sorted(example.keys() - defaults.keys()) == [], "keys the settings do not have"
    assert sorted(defaults.keys() - example.keys()) == [], "settings the example leaves out"


@pytest.mark.parametrize("key", sorted(default_values()))
def test_each_key_shows_its_built_in_default(key: str) -> None:
    shown = example_values().get(key)
    if key in EXAMPLE_ONLY:
        assert shown == EXAMPLE_ONLY[key]
        assert shown != default_values()[key], f"{key} is the default: drop it from EXAMPLE_ONLY"
    else:
        assert shown == default_values()[key], f"{key} in config.example.toml"


def test_the_recurring_schedule_sketch_has_every_field_and_no_other() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    sketch = text.split("#   [[schedule.recurring]]\n", 1)[1].split("\n# Schedules", 1)[0]
    keys = {line.lstrip("# ").split("=", 1)[0].strip() for line in sketch.splitlines()}
    assert keys == set(RecurringSchedule.model_fields)


def commands_mentioned() -> list[str]:
    return sorted(set(re.findall(r"`(mailer [^`]+)`", comment_text())))


def test_the_example_mentions_commands() -> None:
    # Guards the search below: a change to how commands are quoted would otherwise pass.
    assert "mailer campaigns resume ID" in commands_mentioned()


@pytest.mark.parametrize("mentioned", commands_mentioned())
def test_every_command_the_example_mentions_exists(mentioned: str) -> None:
    command: Any = typer.main.get_command(app)
    used: list[str] = []
    for word in mentioned.split()[1:]:
        subcommands = getattr(command, "commands", {})  # a group's; a command has none
        if word in subcommands:
            command = subcommands[word]
            used.append(word)
        elif word.startswith("-"):
            options = {name for param in command.params for name in param.opts}
            assert word.split("=")[0] in options, f"`mailer {' '.join(used)}` has no {word}"
        else:
            assert word.isupper() or not hasattr(command, "commands"), (
                f"`mailer {' '.join(used)}` has no command {word!r}"
            )
    assert used, f"{mentioned!r} names no command"
