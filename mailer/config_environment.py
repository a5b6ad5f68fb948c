"""``MAILER_*`` environment variables: which ones are settings, which are meant otherwise, and
the values they set.

Every setting ``section.key`` can be set as ``MAILER_SECTION_KEY``. Any other ``MAILER_*``
variable is an error, like an unknown key in the file: a misspelled
``MAILER_TRANSPORT_SENDGRID_HOST`` must not send real mail through the real SendGrid. A few
names are meant without being settings (see ``exempt_variables``).
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from pydantic import BaseModel

ENV_PREFIX = "MAILER_"
ENV_CONFIG_PATH = "MAILER_CONFIG"
# Not settings, yet meant: the config file's path, and the database the test suite runs on.
OTHER_VARIABLES = frozenset({ENV_CONFIG_PATH, "MAILER_TEST_DATABASE_URL"})
# A setting whose name ends so holds the name of the variable with a secret in it.
SECRET_NAME_SUFFIX = "_env"

SettingPath = tuple[str, ...]


def _is_section(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _leaves(model: type[BaseModel], path: SettingPath = ()) -> Iterator[tuple[SettingPath, Any]]:
    """Every setting of ``model`` (sections walked into) with its type."""
    for name, info in model.model_fields.items():
        if info.exclude:  # not a setting (where the settings came from)
            continue
        if _is_section(info.annotation):
            yield from _leaves(info.annotation, (*path, name))
        else:
            yield (*path, name), info.annotation


def variable_name(path: SettingPath) -> str:
    return ENV_PREFIX + "_".join(path).upper()


def setting_variables(model: type[BaseModel]) -> dict[str, tuple[SettingPath, bool]]:
    """``MAILER_SECTION_KEY`` -> (the setting's path, whether it holds a list)."""
    return {
        variable_name(path): (path, _is_list(annotation)) for path, annotation in _leaves(model)
    }


def _default(model: type[BaseModel], path: SettingPath) -> Any:
    for name in path[:-1]:
        annotation = model.model_fields[name].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    return model.model_fields[path[-1]].default


def _lookup(data: Mapping[str, Any], path: SettingPath) -> Any:
    value: Any = data
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def exempt_variables(model: type[BaseModel], data: Mapping[str, Any]) -> frozenset[str]:
    """``MAILER_*`` names that are not settings but are meant: ``MAILER_CONFIG``,
    ``MAILER_TEST_DATABASE_URL``, and every variable a ``*_env`` setting names as holding a
    secret, both its default (``MAILER_SECRET_KEY``, ``MAILER_SMTP_PASSWORD``) and the name
    the file or the environment (``data``) gives it."""
    names = set(OTHER_VARIABLES)
    for path, _ in _leaves(model):
        if path[-1].endswith(SECRET_NAME_SUFFIX):
            for name in (_default(model, path), _lookup(data, path)):
                if isinstance(name, str):
                    names.add(name)
    return frozenset(names)


def secret_problems(settings: BaseModel, environ: Mapping[str, str]) -> list[str]:
    """A message for each variable a ``*_env`` setting names whose secret is not UTF-8 (it
    could never be used: signing and logging in need its bytes)."""
    problems = []
    data = settings.model_dump()
    for path, _ in _leaves(type(settings)):
        name = _lookup(data, path) if path[-1].endswith(SECRET_NAME_SUFFIX) else None
        if isinstance(name, str) and _not_utf8(environ.get(name, "")):
            problems.append(
                f"environment variable {name} (named by {'.'.join(path)}): not valid UTF-8 "
                "text (the bytes it holds are in another encoding)"
            )
    return problems


def _not_utf8(value: str) -> bool:
    # Bytes that are not UTF-8 reach Python as lone surrogates ("surrogateescape").
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class EnvironmentSettings:
    """What the ``MAILER_*`` variables set, nested like the file's tables."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[SettingPath, str] = field(default_factory=dict)  # setting path -> variable
    problems: list[str] = field(default_factory=list)

    def set(self, path: SettingPath, variable: str, value: Any) -> None:
        table = self.values
        for name in path[:-1]:
            table = table.setdefault(name, {})
        table[path[-1]] = value
        self.origins[path] = variable

    def variable_for(self, location: tuple[int | str, ...]) -> tuple[str, str] | None:
        """The variable behind a validation error at ``location``, and what is left of the
        location inside its value (an item of a JSON list)."""
        for path, variable in self.origins.items():
            if tuple(location[: len(path)]) == path:
                return variable, ".".join(str(part) for part in location[len(path) :])
        return None


def read_environment(model: type[BaseModel], environ: Mapping[str, str]) -> EnvironmentSettings:
    """The settings the ``MAILER_*`` variables set; a list setting's value is JSON."""
    found = EnvironmentSettings()
    known = setting_variables(model)
    for variable in sorted(environ):
        if variable not in known:
            continue
        path, is_list = known[variable]
        raw = environ[variable]
        if _not_utf8(raw):
            found.problems.append(
                f"environment variable {variable}: not valid UTF-8 text (the bytes it holds "
                "are in another encoding)"
            )
            continue
        if not is_list:
            found.set(path, variable, raw)
            continue
        try:
            found.set(path, variable, json.loads(raw))
        except json.JSONDecodeError as exc:
            found.problems.append(
                f"environment variable {variable}: not a JSON list ({exc.msg} at column "
                f'{exc.colno}); write it like \'["weekly", "tech"]\''
            )
    return found


def unknown_variables(
    model: type[BaseModel], environ: Mapping[str, str], data: Mapping[str, Any]
) -> list[str]:
    """A message for each ``MAILER_*`` variable that is neither a setting nor meant otherwise
    (``data``: the file's settings merged with the environment's)."""
    known = setting_variables(model)
    exempt = exempt_variables(model, data)
    problems = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in known or variable in exempt:
            continue
        shown = variable.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        close = difflib.get_close_matches(variable, [*known, *exempt], n=1, cutoff=0.8)
        hint = (
            f"did you mean {close[0]}?"
            if close
            else "settings are named MAILER_<SECTION>_<KEY>, e.g. MAILER_DATABASE_URL"
        )
        problems.append(f"environment variable {shown} is not a setting; {hint}")
    return problems
