"""Regressions of issue 13 (first contact): what a new user met, each failed before its fix."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from support import fixed_ring
from trackcodec import (
    Codec,
    ConfigurationError,
    HMACCipher,
    KeyRing,
    MissingDependencyError,
    Tracker,
    TrackingConfig,
)
from trackcodec.cli import main

KEYS = fixed_ring().to_string()
BASE = "https://t.example.com/"


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TRACKCODEC_"):
            monkeypatch.delenv(name)


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env or {})


def test_the_command_without_the_cli_extra_says_what_to_install() -> None:
    # Before: a ModuleNotFoundError traceback from the installed script.
    script = "import sys; sys.modules['click'] = None\nfrom trackcodec.cli import main\nmain()\n"
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "pip install 'trackcodec[cli]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_several_missing_extras_are_named_at_once() -> None:
    one = MissingDependencyError("msgpack", "msgpack", feature="MsgpackSerializer")
    two = MissingDependencyError("cryptography", "crypto", feature="AESSIVCipher")
    both = MissingDependencyError.combine([one, two])
    assert "pip install 'trackcodec[msgpack,crypto]'" in str(both)
    assert both.extras == ("msgpack", "crypto")
    assert MissingDependencyError.combine([one]) is one


def test_missing_keys_say_how_to_get_them() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Codec(cipher=HMACCipher)
    message = str(caught.value)
    assert "trackcodec keygen" in message
    assert "TRACKCODEC_KEYS" in message
    assert "KeyRing.generate()" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tck1:0.AAAAAAAAAAAAAAAAAAAAAA,1-BBBB", "entry 2 is not KEY-ID.SECRET"),
        ("tck1:300.AAAAAAAAAAAAAAAAAAAAAA", "entry 1: key id 300 is not 0-255"),
        ("tck1:0.AAAAAAAAAAAAAAAAAAAAAA,4.AA*A", "entry 2 (key id 4): the secret is not"),
    ],
)
def test_key_ring_text_errors_name_the_entry(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        KeyRing.from_string(text)


def test_a_pytracking_fernet_key_is_recognised() -> None:
    fernet_key = base64.urlsafe_b64encode(bytes(range(32))).decode()
    with pytest.raises(ConfigurationError, match="legacy_fernet_keys"):
        KeyRing.from_string(fernet_key)
    with pytest.raises(ConfigurationError, match="legacy_fernet_keys"):
        TrackingConfig.from_env({"TRACKCODEC_KEYS": fernet_key})


@pytest.mark.parametrize(
    "base", ["t.example.com/o", "ftp://t.example.com/o/", "https:///o/", "/o/", "mailto:x@y"]
)
def test_base_urls_are_absolute_http_urls_with_a_host(base: str) -> None:
    with pytest.raises(ConfigurationError, match="absolute http"):
        TrackingConfig(base_open_tracking_url=base)
    with pytest.raises(ConfigurationError, match="absolute http"):
        TrackingConfig(base_click_tracking_url=base)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: Codec.default(bytes(32)), "keys"),  # type: ignore[arg-type]
        (lambda: Codec(serializer="json"), "serializer"),  # type: ignore[arg-type]
        (lambda: Codec(compressor="deflate"), "compressor"),  # type: ignore[arg-type]
        (lambda: Codec(cipher="hmac", keys=fixed_ring()), "cipher"),  # type: ignore[arg-type]
        (lambda: Codec(keys=b"secret" * 6), "keys"),  # type: ignore[arg-type]
        (lambda: Tracker(keys=fixed_ring()).parse(None), "url_or_path"),  # type: ignore[arg-type]
        (lambda: Tracker(keys=fixed_ring()).parse_open(7), "url_or_path"),  # type: ignore[arg-type]
        (
            lambda: Tracker(base_click_tracking_url=BASE, keys=fixed_ring()).click_url(None),  # type: ignore[arg-type]
            "url",
        ),
    ],
)
def test_wrong_argument_types_name_the_argument(call: Any, named: str) -> None:
    # Before: AttributeError from deep inside (or, for bytes keys, the secret's repr).
    with pytest.raises(TypeError, match=named) as caught:
        call()
    assert "secret" not in str(caught.value)
    assert "\\x00" not in str(caught.value)


def test_explain_with_a_wrong_key_does_not_claim_authentication() -> None:
    token = run("encode", '{"metadata": {"a": 1}}', env={"TRACKCODEC_KEYS": KEYS}).stdout.strip()
    other = KeyRing({0: bytes(32)}).to_string()
    result = run("decode", "--explain", token, env={"TRACKCODEC_KEYS": other})
    assert result.exit_code == 1
    assert "failed authentication" in result.output
    assert ", authenticated" not in result.output
    assert "not verified" in result.output


def test_keygen_rotate_reads_the_ring_from_the_environment() -> None:
    result = run("keygen", "--rotate", env={"TRACKCODEC_KEYS": KEYS})
    assert result.exit_code == 0, result.output
    rotated = KeyRing.from_string(result.stdout)
    assert set(fixed_ring().key_ids) < set(rotated.key_ids)


def test_keygen_rotate_reads_the_ring_from_standard_input() -> None:
    result = run("keygen", "--rotate", "--key-id", "9", input=KEYS + "\n")
    assert result.exit_code == 0, result.output
    rotated = KeyRing.from_string(result.stdout)
    assert rotated.primary_id == 9
    assert set(fixed_ring().key_ids) < set(rotated.key_ids)
    assert run("keygen", "--rotate", "-", input="").exit_code == 1


def test_keygen_rotate_still_takes_a_ring_argument() -> None:
    result = run("keygen", "--rotate", KEYS)
    assert result.exit_code == 0, result.output


HTML = (
    '<html><body><p>x</p><a href="https://shop.example.com/p">p</a>'
    '<!--[if mso]><v:roundrect href="https://shop.example.com/v"></v:roundrect><![endif]-->'
    "</body></html>"
)


def test_rewrite_offers_what_rewrite_html_offers(tmp_path: Path) -> None:
    page = tmp_path / "mail.html"
    page.write_text(HTML, encoding="utf-8")
    env = {"TRACKCODEC_KEYS": KEYS}
    plain = run("rewrite", str(page), "--base-url", BASE, env=env)
    assert plain.exit_code == 0, plain.output
    top = run("rewrite", str(page), "--base-url", BASE, "--pixel", "top", env=env)
    assert top.stdout.index("<img") < top.stdout.index("<p>")
    assert plain.stdout.index("<img") > plain.stdout.index("<p>")
    none = run("rewrite", str(page), "--base-url", BASE, "--pixel", "none", env=env)
    assert "<img" not in none.stdout
    vml = run("rewrite", str(page), "--base-url", BASE, "--vml", env=env)
    assert 'href="https://shop.example.com/v"' in plain.stdout
    assert 'href="https://shop.example.com/v"' not in vml.stdout
    utm = run("rewrite", str(page), "--base-url", BASE, "--utm", "utm_source=mail", "--keys", KEYS)
    tracker = Tracker(base_click_tracking_url=BASE, base_open_tracking_url=BASE, keys=fixed_ring())
    link = utm.stdout.split('<a href="')[1].split('"')[0]
    assert tracker.parse_click(link).tracked_url == "https://shop.example.com/p?utm_source=mail"
    assert run("rewrite", str(page), "--base-url", BASE, "--utm", "nope", env=env).exit_code == 2
    nolinks = run("rewrite", str(page), "--base-url", BASE, "--no-click-tracking", env=env)
    assert 'href="https://shop.example.com/p"' in nolinks.stdout
