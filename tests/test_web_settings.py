"""The web's settings: which proxies are believed, and where the pages' templates are."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.errors import ConfigError


def _settings(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> object:
    config = tmp_path / "mailer.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config, environ=environ or {}, cwd=tmp_path)


def test_no_proxy_is_believed_unless_named(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.web.forwarded_allow_ips == []
    named = load_settings(
        environ={"MAILER_WEB_FORWARDED_ALLOW_IPS": '["10.1.2.3", " 10.0.0.9/8", "::1", "*"]'},
        cwd=tmp_path,
    )
    # Written the way uvicorn reads them (a network with host bits set would be ignored).
    assert named.web.forwarded_allow_ips == ["10.1.2.3", "10.0.0.0/8", "::1", "*"]


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.300", "10.0.0.0/33", ""])
def test_a_proxy_that_is_not_an_address_is_refused_naming_the_key(
    tmp_path: Path, entry: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _settings(tmp_path, f'[web]\nforwarded_allow_ips = ["127.0.0.1", "{entry}"]\n')
    message = str(error.value)
    assert "mailer.toml" in message
    assert "web.forwarded_allow_ips.1" in message
    assert "not an IP address or network" in message


def test_web_templates_are_found_next_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.paths.web_templates == tmp_path.resolve() / "templates" / "web"
    (tmp_path / "site").mkdir()
    config = tmp_path / "site" / "mailer.toml"
    config.write_text('[paths]\nweb_templates = "our-pages"\n', encoding="utf-8")
    moved = load_settings(config, environ={}, cwd=tmp_path)
    assert moved.paths.web_templates == (tmp_path / "site" / "our-pages").resolve()
