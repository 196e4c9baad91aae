"""Regressions for problems an independent review found: each test failed before its fix.

Inputs are sized so that the old quadratic code would run for minutes while
the fixed code takes milliseconds; no test measures time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, Field

from trackcodec import (
    AESSIVCipher,
    BadSignature,
    Codec,
    ConfigurationError,
    InvalidToken,
    KeyRing,
    LimitExceeded,
    MalformedToken,
    RedirectNotAllowed,
    RedirectPolicy,
    Tracker,
    TrackingResult,
    UnsupportedToken,
    registry,
)
from trackcodec.cli import main
from trackcodec.codec import b64encode
from trackcodec.compat import pytracking as tc
from trackcodec.html import rewrite_html, rewrite_text

OPEN = "https://t.example.com/o/"
CLICK = "https://t.example.com/c/"

# The linear-time tests would hang, not fail, if quadratic code came back:
# a generous timeout turns that into a failure (it is not a speed assertion).
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing({0: bytes(range(32))})


def tracker(ring: KeyRing, **settings: Any) -> Tracker[dict[str, Any]]:
    return Tracker(
        base_open_tracking_url=OPEN, base_click_tracking_url=CLICK, keys=ring, **settings
    )


def test_redirect_check_is_linear_on_long_urls_with_control_characters() -> None:
    policy = RedirectPolicy(("http", "https"), None)
    with pytest.raises(RedirectNotAllowed, match="control"):
        policy.check("https://" + "a" * 200_000 + "\x01")


def test_rewrite_html_with_a_long_href_holding_a_control_character(ring: KeyRing) -> None:
    html = '<a href="https://' + "a" * 100_000 + '&#1;x">hi</a>'
    assert rewrite_html(html, tracker(ring), open_tracking=False) == html


def test_rewrite_text_trims_many_closing_brackets_in_linear_time(ring: KeyRing) -> None:
    text = "see http://x.example/" + ")" * 200_000
    out = rewrite_text(text, tracker(ring))
    assert out.endswith(")" * 200_000)
    link = out[len("see ") : len(out) - 200_000]
    assert tracker(ring).parse_click(link).tracked_url == "http://x.example/"


def test_a_query_with_too_many_fields_is_an_invalid_token(ring: KeyRing) -> None:
    query_tracker = Tracker(
        base_click_tracking_url="https://t.example.com/c",
        keys=ring,
        token_param="t",
        fallback_url="https://shop.example.com/",
    )
    bad = "https://t.example.com/c?" + "&".join(f"x{i}=1" for i in range(70))
    with pytest.raises(MalformedToken):
        query_tracker.parse_click(bad)
    assert query_tracker.redirect_target(bad) == "https://shop.example.com/"


@pytest.mark.parametrize("serializer", ["json", "msgpack", "schema"])
def test_metadata_models_with_aliases_round_trip(ring: KeyRing, serializer: str) -> None:
    class Meta(BaseModel):
        customer_id: int = Field(alias="cid")
        campaign: str | None = None

    typed = Tracker(
        base_click_tracking_url=CLICK, keys=ring, serializer=serializer, metadata_model=Meta
    )
    url = typed.click_url("https://x.example/", Meta(cid=5, campaign="c"))
    assert typed.parse_click(url).metadata == Meta(cid=5, campaign="c")


@pytest.mark.parametrize("payload", [{"m": {1: "x"}}, {"m": [{None: 1}]}, {"m": {(1, 2): 3}}])
def test_non_string_keys_are_refused_when_minting(ring: KeyRing, payload: Any) -> None:
    with pytest.raises(TypeError, match="keys must be str"):
        Codec.default(ring).encode(payload)


def test_schema_fields_left_unset_take_the_models_defaults(ring: KeyRing) -> None:
    class Inner(BaseModel):
        x: int = 1

    class Meta(BaseModel):
        sent: datetime = datetime(2020, 1, 1)
        inner: Inner = Inner()
        tags: list[str] = Field(default_factory=list)
        customer_id: int
        note: str | None = None

    typed = Tracker(
        base_click_tracking_url=CLICK, keys=ring, serializer="schema", metadata_model=Meta
    )
    for meta in (Meta(customer_id=7), Meta(customer_id=7, inner=Inner(x=3), tags=["a"])):
        assert typed.parse_click(typed.click_url("https://x.example/", meta)).metadata == meta


def test_legacy_plain_tokens_obey_the_depth_limit(ring: KeyRing) -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    config = tc.Configuration(base_click_tracking_url=CLICK)
    url = tc.get_click_tracking_url("https://x.example/", {"deep": deep}, configuration=config)
    with pytest.raises(LimitExceeded):
        tracker(ring, accept_legacy="plain").parse_click(url)


def test_results_with_bytes_metadata_have_a_json_form() -> None:
    result = TrackingResult[dict[str, Any]](kind="open", metadata={"b": b"\xff\x00"}, timestamp=1)
    assert isinstance(result.to_json_dict()["metadata"]["b"], str)


def test_cli_decodes_query_tokens_with_a_trailing_slash(ring: KeyRing) -> None:
    query_tracker = Tracker(
        base_click_tracking_url="https://t.example.com/c",
        keys=ring,
        token_param="t",
        append_slash=True,
    )
    url = query_tracker.click_url("https://x.example/")
    assert url.endswith("/")
    env = {"TRACKCODEC_KEYS": ring.to_string(), "TRACKCODEC_TOKEN_PARAM": "t"}
    result = CliRunner().invoke(main, ["decode", url], env=env)
    assert result.exit_code == 0, result.output
    assert "https://x.example/" in result.output


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"base_open_tracking_url": "https://t.example.com/o#x"}, "base_open_tracking_url"),
        ({"base_click_tracking_url": "https://t.example.com/c?x=1"}, "base_click_tracking_url"),
    ],
)
def test_base_urls_that_would_hide_the_token_are_refused(
    ring: KeyRing, settings: dict[str, str], field: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Tracker(keys=ring, **settings)
    assert info.value.field == field
    # A query string is fine when the token goes in a query parameter.
    Tracker(keys=ring, base_click_tracking_url="https://t.example.com/c?x=1", token_param="t")


@pytest.mark.parametrize("now", [float("inf"), float("nan"), -1.0, 2.0**32])
def test_issue_times_out_of_range_are_value_errors(ring: KeyRing, now: float) -> None:
    with pytest.raises(ValueError, match="between 1970 and 2106"):
        Codec(keys=ring, timestamp=True).encode({"a": 1}, now=now)


def test_decoding_still_raises_only_invalid_token_for_garbage(ring: KeyRing) -> None:
    for garbage in ("", "/", "?t=", "E" * 5000, "\x00", "https://t.example.com/c/%%%"):
        with pytest.raises(InvalidToken):
            tracker(ring).parse_click(garbage)


@pytest.mark.parametrize("compressor", ["deflate", "deflate-dict"])
def test_one_codec_serves_many_threads(ring: KeyRing, compressor: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    codec = Codec.from_names(compressor=compressor, keys=ring)
    payloads = [
        {"url": f"https://shop.example.com/p/{i}?utm_source=mail", "metadata": {"i": i}}
        for i in range(200)
    ]
    expected = [codec.encode(p) for p in payloads]  # AES-SIV: deterministic

    def work(_: int) -> list[str]:
        tokens = [codec.encode(p) for p in payloads]
        assert [codec.decode(t) for t in tokens] == payloads
        return tokens

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(tokens == expected for tokens in pool.map(work, range(8)))


def test_the_route_cache_keeps_only_headers_that_resolve(ring: KeyRing) -> None:
    # The codec remembers how to open each 3-byte header it has resolved; tokens
    # with headers an attacker makes up must not make it grow.
    codec = Codec.default(ring)
    good = codec.encode({"customer_id": 7})
    codec.decode(good)
    assert len(codec._routes) == 1
    for first in range(256):
        for second in range(0, 256, 17):
            for key_id in (0, 1, 200):
                forged = b64encode(bytes((first, second, key_id)) + bytes(40))
                with pytest.raises(InvalidToken):
                    codec.decode(forged)
    # 12,288 forged headers; kept are only those naming backends this codec has
    # and a key in the ring: (timestamp flag) x (3 compressors) x (3 serializers)
    # x (6 ciphers) at most, whatever is sent.
    assert len(codec._routes) <= 2 * 3 * 3 * 6
    assert all(header[2] in ring for header in codec._routes)
    assert codec.decode(good) == {"customer_id": 7}


def test_an_unknown_compressor_in_an_authentic_token_is_unsupported_every_time(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token from a newer version (compressor id 3, sealed with our key): it
    # authenticates, then the codec says it cannot read it, and does not cache that.
    # (Id 3 is zstd-dict's: unregistered here, as in a version without it.)
    compressors = {k: v for k, v in registry._compressors.items() if v[0] != 3}
    monkeypatch.setattr(registry, "_compressors", compressors)
    codec = Codec.default(ring)
    header = bytes((0x10 | 3, 0x22, 0))  # msgpack, AES-SIV, key 0
    sealed = AESSIVCipher(ring.secret(0)).seal(b"\x80", header=header)
    token = b64encode(header + sealed)
    for _ in range(2):
        with pytest.raises(UnsupportedToken, match="compressor id 3"):
            codec.decode(token)
    assert codec._routes == {}
    # The same header with a forged body is a forgery, not an unsupported token.
    with pytest.raises(BadSignature):
        codec.decode(b64encode(header + bytes(len(sealed))))


def test_str_subclasses_are_tokens_and_urls_too(ring: KeyRing) -> None:
    # Frameworks hand over str subclasses (Django's SafeString, markupsafe's Markup).
    class Safe(str):
        pass

    codec = Codec.default(ring)
    assert codec.decode(Safe(codec.encode({"customer_id": 7}))) == {"customer_id": 7}
    t = tracker(ring)
    url = t.click_url("https://shop.example.com/", {"customer_id": 7})
    assert t.parse_click(Safe(url)).tracked_url == "https://shop.example.com/"
    assert t.parse_click(Safe(url)).metadata == {"customer_id": 7}
