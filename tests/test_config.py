"""`TrackingConfig`: defaults, validation, loaders (dict, environment, TOML), secrecy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from trackcodec import (
    ConfigurationError,
    HMACCipher,
    JSONSerializer,
    KeyRing,
    NoCompressor,
    Tracker,
    TrackingConfig,
)
from trackcodec.codec import b64encode
from trackcodec.config import ENV_PREFIX

FERNET_KEY = "yMjbeGJEiKCqeOGYz6p4M4jXjI9pZ8_Kl6Ip3ynhxbs="


def test_defaults() -> None:
    config = TrackingConfig()
    assert config.base_open_tracking_url is None
    assert config.base_click_tracking_url is None
    assert config.default_metadata is None
    assert config.include_default_metadata is False
    assert config.webhook_url is None
    assert config.include_webhook_url is False
    assert config.allowed_webhook_urls == ()
    assert config.webhook_timeout_seconds == 5
    assert config.append_slash is False
    assert config.token_param is None
    assert (config.serializer, config.compressor, config.cipher) == (
        "msgpack",
        "deflate-dict",
        "aes-siv",
    )
    assert config.keys is None
    assert config.timestamp is False
    assert config.ttl is None
    assert config.redirect_schemes == ("http", "https")
    assert config.redirect_hosts is None
    assert config.fallback_url is None
    assert config.accept_legacy == "none"
    assert config.legacy_fernet_keys == ()
    assert config.max_token_length == 4096
    assert ENV_PREFIX == "TRACKCODEC_"


def test_keys_as_text(fixed_keys: KeyRing) -> None:
    config = TrackingConfig(keys=fixed_keys.to_string())
    assert isinstance(config.keys, KeyRing)
    assert config.keys == fixed_keys
    assert TrackingConfig(keys=fixed_keys).keys is fixed_keys
    assert TrackingConfig(keys="  " + fixed_keys.to_string() + "\n").keys == fixed_keys


def test_backends_as_instances(fixed_keys: KeyRing) -> None:
    config = TrackingConfig(
        base_click_tracking_url="https://t.example.com/c/",
        keys=fixed_keys,
        serializer=JSONSerializer(),
        compressor=NoCompressor(),
        cipher=HMACCipher,
    )
    tracker = Tracker(config)
    result = tracker.parse_click(tracker.click_url("https://shop.example.com/", {"a": 1}))
    assert (result.serializer, result.cipher) == ("json", "hmac")


def test_frozen(fixed_keys: KeyRing) -> None:
    config = TrackingConfig(keys=fixed_keys, redirect_hosts=["a.example"])
    with pytest.raises(ValidationError):
        config.ttl = 60  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.keys = None  # type: ignore[misc]
    assert config.redirect_hosts == ("a.example",)
    assert isinstance(config.redirect_hosts, tuple)
    assert hash(config.redirect_hosts)
    changed = config.model_copy(update={"ttl": 60})
    assert (config.ttl, changed.ttl) == (None, 60)


def test_from_dict(fixed_keys: KeyRing) -> None:
    data = {
        "base_click_tracking_url": "https://t.example.com/c/",
        "keys": fixed_keys.to_string(),
        "redirect_hosts": ["shop.example.com", ".example.org"],
        "default_metadata": {"app": "shop"},
        "ttl": 86400,
        "accept_legacy": "fernet",
        "legacy_fernet_keys": [FERNET_KEY],
    }
    config = TrackingConfig.from_dict(data)
    assert config.keys == fixed_keys
    assert config.redirect_hosts == ("shop.example.com", ".example.org")
    assert config.default_metadata == {"app": "shop"}
    assert config.ttl == 86400
    assert config.legacy_fernet_keys == (FERNET_KEY,)
    assert TrackingConfig.from_dict(config.model_dump()) == config


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"nope": 1}, "nope"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": -1}, "ttl"),
        ({"ttl": "soon"}, "ttl"),
        ({"webhook_timeout_seconds": 0}, "webhook_timeout_seconds"),
        ({"max_token_length": 3}, "max_token_length"),
        ({"serializer": "xml"}, "serializer"),
        ({"compressor": "zstd"}, "compressor"),
        ({"cipher": "rot13"}, "cipher"),
        ({"keys": "not a key ring"}, "keys"),
        ({"keys": "tck1:0.c2hvcnQ"}, "keys"),
        ({"keys": 42}, "keys"),
        ({"accept_legacy": "yes"}, "accept_legacy"),
        ({"accept_legacy": "fernet"}, "legacy_fernet_keys"),
        ({"legacy_fernet_keys": ["abc"]}, "legacy_fernet_keys"),
        ({"token_param": ""}, "token_param"),
        ({"default_metadata": [1, 2]}, "default_metadata"),
        ({"append_slash": "maybe"}, "append_slash"),
        ({"redirect_schemes": "https"}, "redirect_schemes"),
        ({"redirect_schemes": ["https://"]}, "redirect_schemes"),
        ({"redirect_schemes": ["my_app"]}, "redirect_schemes"),
        ({"redirect_schemes": [""]}, "redirect_schemes"),
    ],
)
def test_invalid_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig(**settings)
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig.from_dict(settings)
    assert info.value.field == field


# -- environment -----------------------------------------------------------------------


def test_from_env(fixed_keys: KeyRing) -> None:
    environ = {
        "TRACKCODEC_BASE_CLICK_TRACKING_URL": "https://t.example.com/c/",
        "TRACKCODEC_KEYS": fixed_keys.to_string(),
        "TRACKCODEC_APPEND_SLASH": "true",
        "TRACKCODEC_INCLUDE_WEBHOOK_URL": "1",
        "TRACKCODEC_INCLUDE_DEFAULT_METADATA": "false",
        "TRACKCODEC_TIMESTAMP": "0",
        "TRACKCODEC_REDIRECT_HOSTS": " shop.example.com, .example.org ,",
        "TRACKCODEC_ALLOWED_WEBHOOK_URLS": '["https://h.example/1", "https://h.example/a,b"]',
        "TRACKCODEC_DEFAULT_METADATA": '{"app": "shop", "é": [1, 2]}',
        "TRACKCODEC_TTL": "3600",
        "TRACKCODEC_WEBHOOK_TIMEOUT_SECONDS": "2.5",
        "TRACKCODEC_CIPHER": "hmac",
        "TRACKCODEC_ACCEPT_LEGACY": "fernet",
        "TRACKCODEC_LEGACY_FERNET_KEYS": FERNET_KEY,
        "TRACKCODEC_TOKEN_PARAM": "",
        "PATH": "/usr/bin",
        "TRACKCODEC": "no underscore, not a setting",
    }
    config = TrackingConfig.from_env(environ)
    assert config.base_click_tracking_url == "https://t.example.com/c/"
    assert config.keys == fixed_keys
    assert config.append_slash is True
    assert config.include_webhook_url is True
    assert config.include_default_metadata is False
    assert config.timestamp is False
    assert config.redirect_hosts == ("shop.example.com", ".example.org")
    assert config.allowed_webhook_urls == ("https://h.example/1", "https://h.example/a,b")
    assert config.default_metadata == {"app": "shop", "é": [1, 2]}
    assert config.ttl == 3600
    assert config.webhook_timeout_seconds == 2.5
    assert config.cipher == "hmac"
    assert config.accept_legacy == "fernet"
    assert config.legacy_fernet_keys == (FERNET_KEY,)
    assert config.token_param is None


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch, fixed_keys: KeyRing) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKCODEC_KEYS", fixed_keys.to_string())
    monkeypatch.setenv("TRACKCODEC_TTL", "")
    config = TrackingConfig.from_env()
    assert config.keys == fixed_keys
    assert config.ttl is None


def test_from_env_custom_prefix() -> None:
    config = TrackingConfig.from_env(
        {"MYAPP_TRACKING_APPEND_SLASH": "yes", "TRACKCODEC_NOPE": "ignored"},
        prefix="MYAPP_TRACKING_",
    )
    assert config.append_slash is True


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"TRACKCODEC_TTLL": "60"}, "ttll"),
        ({"TRACKCODEC_KEY": "tck1:..."}, "key"),
        ({"TRACKCODEC_TTL": "sixty"}, "ttl"),
        ({"TRACKCODEC_APPEND_SLASH": "perhaps"}, "append_slash"),
        ({"TRACKCODEC_DEFAULT_METADATA": "app=shop"}, "default_metadata"),
        ({"TRACKCODEC_DEFAULT_METADATA": "[1]"}, "default_metadata"),
        ({"TRACKCODEC_REDIRECT_HOSTS": '["a.example"'}, "redirect_hosts"),
        ({"TRACKCODEC_CIPHER": "rot13"}, "cipher"),
        ({"TRACKCODEC_KEYS": "secret"}, "keys"),
        ({"TRACKCODEC_ACCEPT_LEGACY": "fernet"}, "legacy_fernet_keys"),
    ],
)
def test_from_env_errors(environ: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig.from_env(environ)
    assert info.value.field == field


def test_unknown_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="TRACKCODEC_BASE_URL"):
        TrackingConfig.from_env({"TRACKCODEC_BASE_URL": "https://t.example.com/"})


# -- TOML ------------------------------------------------------------------------------


@pytest.fixture
def pyproject(tmp_path: Path, fixed_keys: KeyRing) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f"""
[project]
name = "shop"

[trackcodec]
base_click_tracking_url = "https://t.example.com/c/"
keys = "{fixed_keys.to_string()}"
redirect_hosts = ["shop.example.com", ".example.org"]
default_metadata = {{ app = "shop", "clé" = "välue" }}
ttl = 86400
append_slash = true

[tool.trackcodec]
cipher = "hmac"
serializer = "json"
keys = "{fixed_keys.to_string()}"
""",
        encoding="utf-8",
    )
    return path


def test_from_toml(pyproject: Path, fixed_keys: KeyRing) -> None:
    config = TrackingConfig.from_toml(pyproject)
    assert config.base_click_tracking_url == "https://t.example.com/c/"
    assert config.keys == fixed_keys
    assert config.redirect_hosts == ("shop.example.com", ".example.org")
    assert config.default_metadata == {"app": "shop", "clé": "välue"}
    assert config.ttl == 86400
    assert config.append_slash is True
    assert TrackingConfig.from_toml(str(pyproject)) == config


def test_from_toml_nested_table(pyproject: Path) -> None:
    config = TrackingConfig.from_toml(pyproject, table="tool.trackcodec")
    assert (config.cipher, config.serializer) == ("hmac", "json")


def test_from_toml_top_level(tmp_path: Path) -> None:
    path = tmp_path / "tracking.toml"
    path.write_text('cipher = "plain"\nappend_slash = true\n', encoding="utf-8")
    config = TrackingConfig.from_toml(path, table=None)
    assert (config.cipher, config.append_slash) == ("plain", True)


@pytest.mark.parametrize("table", ["missing", "tool.missing", "project.name", "tool.trackcodec.x"])
def test_from_toml_missing_table(pyproject: Path, table: str) -> None:
    with pytest.raises(ConfigurationError, match="no \\[") as info:
        TrackingConfig.from_toml(pyproject, table=table)
    assert info.value.field == table


def test_from_toml_invalid_setting(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[trackcodec]\nttl = -1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig.from_toml(path)
    assert info.value.field == "ttl"
    path.write_text("[trackcodec]\nttl_seconds = 60\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        TrackingConfig.from_toml(path)
    assert info.value.field == "ttl_seconds"


def test_from_toml_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        TrackingConfig.from_toml(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[trackcodec\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read"):
        TrackingConfig.from_toml(broken)


# -- secrets never show ----------------------------------------------------------------


def test_repr_hides_secrets(fixed_keys: KeyRing) -> None:
    config = TrackingConfig(
        keys=fixed_keys.to_string(),
        accept_legacy="fernet",
        legacy_fernet_keys=(FERNET_KEY,),
    )
    secrets = [b64encode(fixed_keys.secret(k)) for k in fixed_keys]
    secrets += [fixed_keys.to_string(), FERNET_KEY, FERNET_KEY.rstrip("=")]
    tracker = Tracker(config)
    for text in (repr(config), str(config), repr(tracker), str(tracker), repr(tracker.codec)):
        for secret in secrets:
            assert secret not in text
    assert "legacy_fernet_keys='<hidden>'" in repr(config)
    assert "KeyRing(key_ids=(0, 7, 200), primary=0)" in repr(config)
    # The values are still there for the code that needs them.
    assert config.legacy_fernet_keys == (FERNET_KEY,)


def test_repr_shows_empty_legacy_keys() -> None:
    assert "legacy_fernet_keys=()" in repr(TrackingConfig())
