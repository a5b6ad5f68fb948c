"""Command-line words that are not UTF-8 text, refused before any command runs.

On Linux, argv bytes that are not UTF-8 reach Python as lone surrogates ("surrogateescape").
Such a value cannot be stored, printed or sent; let through, it failed far from where it came
in (or worse, was half stored). Each is refused with the option or argument it was given to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailer.errors import MailerError

# The command tree is what typer.main.get_command builds: typer's own copy of click, read here
# by its attributes (a command's params and subcommands, a param's opts and kind).
Command = Any
Param = Any


def _is_text(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(word: str) -> str:
    """The word with each byte that is not UTF-8 written as ``\\xNN`` (any other lone
    surrogate, which only a caller in Python can pass, as ``\\udNNN``)."""
    return "".join(
        f"\\x{ord(char) - 0xDC00:02x}"
        if 0xDC80 <= ord(char) <= 0xDCFF
        else char.encode("utf-8", "backslashreplace").decode("utf-8")
        for char in word
    )


def _refuse(label: str, word: str) -> MailerError:
    return MailerError(
        f"{label} '{_shown(word)}': not UTF-8 text (the shell passed bytes in another "
        "encoding; give it as UTF-8)"
    )


def _option(command: Command, name: str) -> Param | None:
    for param in command.params:
        if param.param_type_name == "option" and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _takes_value(option: Param | None) -> bool:
    return option is not None and not option.is_flag and not option.count


def _label(option: Param | None, fallback: str) -> str:
    if option is None:
        word = _shown(fallback.split("=", 1)[0])
        return f"option {word}" if fallback.startswith("-") else word
    return str(max(option.opts, key=len))  # the long name, which the help shows


def _argument_label(command: Command, position: int) -> str:
    arguments = [param for param in command.params if param.param_type_name == "argument"]
    if not arguments:
        return "argument"
    argument = arguments[min(position, len(arguments) - 1)]
    return str(argument.metavar or argument.name).upper()


def refuse_words_that_are_not_text(root: Command, args: Sequence[str]) -> None:
    """Raise for the first word of ``args`` that is not UTF-8, naming its option or argument;
    the words are read the way click reads them (options, their values, subcommands)."""
    command = root
    waiting: Param | None = None  # an option whose value is the next word
    positions = 0
    only_arguments = False
    for word in args:
        if waiting is not None:
            if not _is_text(word):
                raise _refuse(_label(waiting, word), word)
            waiting = None
            continue
        if not only_arguments and word == "--":
            only_arguments = True
            continue
        if not only_arguments and word.startswith("-") and word != "-":
            name, has_value, _ = word.partition("=") if word.startswith("--") else (word, "", "")
            option = _option(command, name)
            if option is None and not word.startswith("--"):  # -lweekly: -l with its value
                option = _option(command, word[:2])
                has_value = "=" if len(word) > 2 and _takes_value(option) else ""
            if not _is_text(word):
                raise _refuse(_label(option, word), word)
            if _takes_value(option) and not has_value:
                waiting = option
            continue
        subcommands = getattr(command, "commands", None)
        if subcommands is not None and not only_arguments:
            subcommand = subcommands.get(word)
            if subcommand is not None:
                command, positions = subcommand, 0
                continue
            if not _is_text(word):
                raise _refuse("command", word)
        if not _is_text(word):
            raise _refuse(_argument_label(command, positions), word)
        positions += 1
