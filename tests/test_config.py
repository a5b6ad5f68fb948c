"""Settings: file lookup order, environment overrides, and errors that name key and file."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.config import Settings, load_settings
from mailer.config_environment import setting_variables
from mailer.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_work_with_no_file_at_all(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.source is None
    assert settings.transport.default == "outbox"
    assert settings.paths.issues == tmp_path.resolve() / "issues"


def test_lookup_order_explicit_then_env_then_local(tmp_path: Path) -> None:
    local = write(tmp_path / "mailer.toml", '[newsletter]\nname = "Local"\n')
    named = write(tmp_path / "env.toml", '[newsletter]\nname = "From env"\n')
    explicit = write(tmp_path / "explicit.toml", '[newsletter]\nname = "Explicit"\n')
    env = {"MAILER_CONFIG": str(named)}
    assert load_settings(explicit, environ=env, cwd=tmp_path).newsletter.name == "Explicit"
    assert load_settings(None, environ=env, cwd=tmp_path).newsletter.name == "From env"
    assert load_settings(None, environ={}, cwd=tmp_path).newsletter.name == "Local"
    assert load_settings(None, environ={}, cwd=tmp_path).source == local


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[transport.sendgrid]\nbatch_size = 10\n")
    env = {
        "MAILER_TRANSPORT_SENDGRID_BATCH_SIZE": "500",
        "MAILER_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "MAILER_TRANSPORT_SENDGRID_CATEGORIES": '["weekly", "tech"]',
    }
    settings = load_settings(config, environ=env, cwd=tmp_path)
    assert settings.transport.sendgrid.batch_size == 500
    assert settings.database.url == "postgresql+psycopg://u@h/db"
    assert settings.transport.sendgrid.categories == ["weekly", "tech"]


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    config = write(tmp_path / "conf" / "m.toml", '[paths]\nissues = "../content"\n')
    settings = load_settings(config, environ={}, cwd=Path("/"))
    assert settings.paths.issues == tmp_path.resolve() / "conf" / "../content"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[newsletter]\nnmae = "x"\n', "[newsletter] unknown key 'nmae'"),
        ("[transport.sendgrid]\nbatchsize = 5\n", "[transport.sendgrid] unknown key 'batchsize'"),
        ("[colours]\nred = 1\n", "unknown key 'colours'"),
        ('[newsletter]\ntimezone = "Mars/Olympus"\n', "newsletter.timezone"),
        ('[newsletter]\nfrom_email = "not-an-address"\n', "newsletter.from_email"),
        ("[transport.sendgrid]\nbatch_size = 5000\n", "transport.sendgrid.batch_size"),
        ('[transport]\ndefault = "pigeon"\n', "transport.default"),
        ('[newsletter]\nbase_url = "newsletter.example.com"\n', "newsletter.base_url"),
        ("[newsletter\n", "c.toml"),
    ],
)
def test_wrong_or_unknown_keys_name_the_key_and_file(
    tmp_path: Path, text: str, fragment: str
) -> None:
    config = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, cwd=tmp_path)
    assert str(caught.value).startswith(str(config))
    assert fragment in str(caught.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"\$MAILER_CONFIG"):
        load_settings(None, environ={"MAILER_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def _documented_keys(model: type, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        if name == "source":
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _documented_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_example_config_documents_every_setting_and_loads(tmp_path: Path) -> None:
    example = REPO / "config.example.toml"
    settings = load_settings(example, environ={}, cwd=tmp_path)
    text = example.read_text(encoding="utf-8")
    section = ""
    documented: set[str] = set()
    previous = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped.strip("[]") + "."
        elif "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip()
            assert previous.startswith("#"), f"{section}{key} has no comment above it"
            documented.add(section + key)
        previous = stripped or previous
    assert documented == _documented_keys(Settings)
    assert settings.newsletter.postal_address


def _load_with(tmp_path: Path, env: dict[str, str], text: str = "") -> Settings:
    config = write(tmp_path / "c.toml", text)
    return load_settings(config, environ=env, cwd=tmp_path)


@pytest.mark.parametrize(
    ("variable", "suggestion"),
    [
        ("MAILER_DELIVERY_MAX_PER_SECONDS", "MAILER_DELIVERY_MAX_PER_SECOND"),
        ("MAILER_TRANSPORT_SENDGRID_HOTS", "MAILER_TRANSPORT_SENDGRID_HOST"),
        ("MAILER_TRANSPORTS_SENDGRID_HOST", "MAILER_TRANSPORT_SENDGRID_HOST"),
        ("MAILER_TRANSPORT_SENDGRID", None),
        ("MAILER_DATABASE", None),
        ("MAILER_", None),
    ],
)
def test_an_unknown_mailer_variable_is_an_error_naming_it(
    tmp_path: Path, variable: str, suggestion: str | None
) -> None:
    # A misspelled host would otherwise send real mail through the real SendGrid.
    with pytest.raises(ConfigError) as caught:
        _load_with(tmp_path, {variable: "abc"})
    assert f"environment variable {variable} is not a setting" in str(caught.value)
    if suggestion:
        assert f"did you mean {suggestion}?" in str(caught.value)


def test_only_variables_meant_otherwise_are_let_through(tmp_path: Path) -> None:
    named = write(tmp_path / "named.toml", '[web]\nsecret_key_env = "MAILER_LINK_KEY"\n')
    meant = {
        "MAILER_CONFIG": str(named),
        "MAILER_SECRET_KEY": "k" * 32,  # the default web.secret_key_env
        "MAILER_SMTP_PASSWORD": "secret",  # the default transport.smtp.password_env
        "MAILER_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
        "MAILER_LINK_KEY": "k" * 32,  # named by the file
        "MAILER_TRANSPORT_SENDGRID_API_KEY_ENV": "MAILER_SG_KEY",  # names the next one
        "MAILER_SG_KEY": "SG.x",
        "mailer_lowercase": "not ours",
        "OTHER_MAILER_THING": "not ours",
    }
    settings = load_settings(None, environ=meant, cwd=tmp_path)
    assert settings.web.secret_key_env == "MAILER_LINK_KEY"
    assert settings.transport.sendgrid.api_key_env == "MAILER_SG_KEY"
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={**meant, "MAILER_SG_KEYS": "x"}, cwd=tmp_path)
    assert str(caught.value) == (
        "environment variable MAILER_SG_KEYS is not a setting; did you mean MAILER_SG_KEY?"
    )


def test_every_setting_can_be_set_from_its_variable(tmp_path: Path) -> None:
    env = {
        "MAILER_NEWSLETTER_NAME": "[Tech] Weekly",  # starts like JSON, but is plain text
        "MAILER_DELIVERY_MAX_PER_SECOND": "12.5",
        "MAILER_SCHEDULE_RECURRING": '[{"name": "w", "cron": "0 9 * * 1", "list": "weekly"}]',
    }
    settings = _load_with(tmp_path, env)
    assert settings.newsletter.name == "[Tech] Weekly"
    assert settings.delivery.max_per_second == 12.5
    assert settings.schedule.recurring[0].name == "w"


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("MAILER_TRANSPORT_SENDGRID_CATEGORIES", "[bad", "not a JSON list"),
        ("MAILER_TRANSPORT_SENDGRID_CATEGORIES", "weekly", "not a JSON list"),
        ("MAILER_TRANSPORT_SENDGRID_CATEGORIES", "[1, {}]", "valid string"),
        ("MAILER_SCHEDULE_RECURRING", '[{"name": "w"}]', "required"),
        ("MAILER_DELIVERY_MAX_PER_SECOND", "inf", "finite"),
        ("MAILER_DELIVERY_MAX_PER_SECOND", "nan", "finite"),
        ("MAILER_DELIVERY_MAX_PER_SECOND", "-1", "greater than or equal to 0"),
        ("MAILER_DELIVERY_MAX_PER_SECOND", "1e400", "finite"),
        ("MAILER_DELIVERY_MAX_PER_SECOND", "1e300", "less than or equal"),
        ("MAILER_DELIVERY_RETRY_BASE_SECONDS", "Infinity", "finite"),
        ("MAILER_DELIVERY_STALE_AFTER_SECONDS", "1e300", "less than or equal"),
        ("MAILER_TRANSPORT_SENDGRID_TIMEOUT", "1e300", "less than or equal"),
        ("MAILER_TRANSPORT_SENDGRID_ASM_GROUP_ID", "99999999999999999999", "less than or equal"),
        ("MAILER_SCHEDULE_MISFIRE_GRACE", "99999999999d", "too long"),
        ("MAILER_SCHEDULE_MISFIRE_GRACE", "9" * 400, "too long"),
        ("MAILER_NEWSLETTER_NAME", "Tech\udcff", "not valid UTF-8"),
    ],
)
def test_a_wrong_value_from_the_environment_names_the_variable(
    tmp_path: Path, variable: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load_with(tmp_path, {variable: value})
    message = str(caught.value)
    assert message.startswith(f"environment variable {variable}: "), message
    assert fragment in message
    assert "\n" not in message


@given(
    st.sampled_from(
        [
            "delivery.max_per_second",
            "delivery.retry_base_seconds",
            "delivery.retry_max_seconds",
            "delivery.stale_after_seconds",
            "transport.sendgrid.timeout",
        ]
    ),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["inf", "-inf", "nan", "NaN", "1e309", "-0", "1_000", " 3 ", ""]),
        st.text(max_size=12),
    ),
)
def test_every_time_and_rate_setting_is_finite_and_bounded_or_refused(key: str, value: str) -> None:
    # Values reach sleeps, timedeltas and int(): inf or 1e300 crashed a send half way.
    variable = "MAILER_" + key.replace(".", "_").upper()
    try:
        settings = load_settings(None, environ={variable: value}, cwd=Path("/nonexistent"))
    except ConfigError as refused:
        assert str(refused).startswith(f"environment variable {variable}: ")
        return
    number: object = settings
    for part in key.split("."):
        number = getattr(number, part)
    assert isinstance(number, float) and 0 <= number <= 10**7


@pytest.mark.parametrize(
    ("variable", "config"),
    [
        ("MAILER_SECRET_KEY", ""),
        ("SENDGRID_API_KEY", ""),
        ("MAILER_SMTP_PASSWORD", ""),
        ("LINK_KEY", '[web]\nsecret_key_env = "LINK_KEY"\n'),
    ],
)
def test_a_secret_that_is_not_utf8_is_refused_naming_its_variable(
    tmp_path: Path, variable: str, config: str
) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates; as a key they crashed the
    # first command that signed a link or logged in.
    with pytest.raises(ConfigError) as caught:
        _load_with(tmp_path, {variable: "s\udcffcret" * 4}, config)
    assert str(caught.value).startswith(f"environment variable {variable} (named by ")
    assert "not valid UTF-8" in str(caught.value)


def _toml(value: object) -> str:
    """``value`` written as TOML (strings as JSON strings, which TOML reads the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


TOML_SCALARS = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["", "\x00", "a\x00b", "sqlite:///x\x00.db", "UTC", "https://x", "1h"]),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.booleans(),
)
TOML_VALUES = st.one_of(TOML_SCALARS, st.lists(TOML_SCALARS, max_size=3))


@given(
    st.dictionaries(
        st.sampled_from(sorted(setting_variables(Settings).values())), TOML_VALUES, max_size=4
    )
)
def test_any_value_for_any_key_in_the_file_loads_clean_or_is_refused(
    values: dict[tuple[tuple[str, ...], bool], object],
) -> None:
    tables: dict[str, list[str]] = {}
    for (path, _), value in values.items():
        tables.setdefault(".".join(path[:-1]), []).append(f"{path[-1]} = {_toml(value)}")
    text = "".join(f"[{table}]\n" + "\n".join(lines) + "\n" for table, lines in tables.items())
    with tempfile.TemporaryDirectory() as folder:
        config = write(Path(folder) / "c.toml", text)
        try:
            settings = load_settings(config, environ={}, cwd=Path(folder))
        except ConfigError as refused:
            assert str(refused).startswith(str(config)) and "\n" not in str(refused)
            return
    # What loads is usable: no NUL reaches a path, a URL or a header; every number is finite.
    for name, value in _flattened(settings.model_dump()):
        assert "\x00" not in str(value), name
        assert not isinstance(value, float) or math.isfinite(value), name


def _flattened(data: object, name: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flattened(value, f"{name}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _flattened(value, f"{name}.{index}")
    else:
        yield name, data
