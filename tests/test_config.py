"""Settings: file lookup order, environment overrides, and errors that name key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.config import Settings, load_settings
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
