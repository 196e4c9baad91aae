"""`Tracker` against forged, tampered and misused tracking URLs.

The redirect policy has its own module (``test_redirect_policy.py``), and so
do pytracking's legacy tokens (``test_legacy_tokens.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from trackcodec import (
    BadSignature,
    InvalidToken,
    KeyRing,
    LimitExceeded,
    MalformedToken,
    PayloadError,
    Tracker,
    UnknownKey,
)
from trackcodec.codec import b64decode, b64encode

OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"
TARGET = "https://shop.example.com/p/42"
META = {"customer_id": 123456, "campaign": "fall-2026"}


def make_tracker(keys: KeyRing | None, **settings: Any) -> Tracker[dict[str, Any]]:
    return Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=keys,
        **settings,
    )


@pytest.fixture(scope="module")
def tracker(fixed_keys: KeyRing) -> Tracker[dict[str, Any]]:
    return make_tracker(fixed_keys)


@pytest.mark.parametrize("cipher", ["aes-siv", "hmac", "xchacha20", "fernet"])
def test_every_flipped_byte_is_refused(fixed_keys: KeyRing, cipher: str) -> None:
    tracker = make_tracker(fixed_keys, cipher=cipher, webhook_url="https://hooks.example/h")
    url = tracker.click_url(TARGET, META)
    raw = b64decode(url[len(CLICK_BASE) :])
    for index in range(len(raw)):
        for mask in (0x01, 0x80):
            forged = bytearray(raw)
            forged[index] ^= mask
            with pytest.raises(InvalidToken):
                tracker.parse_click(CLICK_BASE + b64encode(bytes(forged)))


def test_every_changed_character_is_refused_or_harmless(tracker: Tracker[dict[str, Any]]) -> None:
    """Changing a character of the URL's token never yields another payload.

    (The last base64 character may carry unused bits: changing only those
    leaves the same bytes, hence the same, authentic payload.)
    """
    url = tracker.click_url(TARGET, META)
    token = url[len(CLICK_BASE) :]
    for index, char in enumerate(token):
        replacement = "A" if char != "A" else "B"
        forged = token[:index] + replacement + token[index + 1 :]
        try:
            result = tracker.parse_click(CLICK_BASE + forged)
        except InvalidToken:
            continue
        assert index == len(token) - 1
        assert (result.tracked_url, result.metadata) == (TARGET, META)


def test_truncated_and_extended_tokens_are_refused(tracker: Tracker[dict[str, Any]]) -> None:
    token = tracker.click_url(TARGET, META)[len(CLICK_BASE) :]
    for cut in range(len(token)):
        with pytest.raises(InvalidToken):
            tracker.parse_click(CLICK_BASE + token[:cut])
    with pytest.raises(InvalidToken):
        tracker.parse_click(CLICK_BASE + token + "AAAA")


@pytest.mark.parametrize(
    "url",
    [
        CLICK_BASE,
        CLICK_BASE + "not-a-token",
        CLICK_BASE + "ééé",
        CLICK_BASE + "%00%0d%0a",
        CLICK_BASE + "x" * 5000,
        CLICK_BASE + "A",
        "",
        "/",
        "javascript:alert(1)",
    ],
)
def test_garbage_is_an_invalid_token(tracker: Tracker[dict[str, Any]], url: str) -> None:
    for parse in (tracker.parse_click, tracker.parse_open, tracker.parse, tracker.redirect_target):
        with pytest.raises(InvalidToken):
            parse(url)


def test_too_long_token_is_refused_before_decoding(fixed_keys: KeyRing) -> None:
    tracker = make_tracker(fixed_keys, max_token_length=64)
    with pytest.raises(LimitExceeded):
        tracker.parse_click(CLICK_BASE + "A" * 65)
    with pytest.raises(ValueError, match="max_token_length"):
        tracker.click_url(TARGET, {"blob": "x" * 200})


def test_token_of_another_key_ring_is_refused(tracker: Tracker[dict[str, Any]]) -> None:
    same_id = make_tracker(KeyRing({0: b"another secret, 32 bytes long..."}))
    with pytest.raises(BadSignature):
        tracker.parse_click(same_id.click_url(TARGET, META))
    other_id = make_tracker(KeyRing({99: b"another secret, 32 bytes long..."}))
    with pytest.raises(UnknownKey):
        tracker.parse_click(other_id.click_url(TARGET, META))


def test_retired_key_is_refused(fixed_keys: KeyRing) -> None:
    old = make_tracker(fixed_keys)
    url = old.click_url(TARGET)
    rotated = fixed_keys.rotate(bytes(range(32)), key_id=42)
    assert make_tracker(rotated).parse_click(url).tracked_url == TARGET
    retired = make_tracker(rotated.without(0))
    with pytest.raises(UnknownKey):
        retired.parse_click(url)


def test_open_token_is_not_a_click(tracker: Tracker[dict[str, Any]]) -> None:
    opened = tracker.open_url(META)
    token = opened[len(OPEN_BASE) :]
    for form in (opened, CLICK_BASE + token, token):
        with pytest.raises(PayloadError):
            tracker.parse_click(form)


def test_payload_without_tracking_layout_is_refused(tracker: Tracker[dict[str, Any]]) -> None:
    for payload in (
        {"url": 42},
        {"metadata": ["not", "a", "dict"]},
        {"metadata": "text"},
        {"url": TARGET, "webhook": {"x": 1}},
    ):
        with pytest.raises(PayloadError):
            tracker.parse(tracker.codec.encode(payload))


def test_plain_codec_token_is_refused_by_authenticating_tracker(
    tracker: Tracker[dict[str, Any]],
) -> None:
    plain = make_tracker(None, cipher="plain")
    url = plain.click_url(TARGET, META)
    assert plain.parse_click(url).authenticated is False
    with pytest.raises(BadSignature):
        tracker.parse_click(url)
    with pytest.raises(BadSignature):
        tracker.parse_open(plain.open_url(META))
    # Even a plain token naming a key id of the ring.
    keyed_plain = make_tracker(tracker.config.keys, cipher="plain")
    with pytest.raises(BadSignature):
        tracker.parse_click(keyed_plain.click_url(TARGET))


def test_forged_click_cannot_redirect(tracker: Tracker[dict[str, Any]]) -> None:
    """The open-redirect attack on pytracking: build a click URL to any target."""
    attacker = make_tracker(KeyRing.generate())
    forged = attacker.click_url("https://evil.example/phish")
    with pytest.raises(InvalidToken):
        tracker.redirect_target(forged)
    with_fallback = tracker.with_overrides(fallback_url="https://www.example.com/")
    assert with_fallback.redirect_target(forged) == "https://www.example.com/"


def test_errors_do_not_reveal_keys(tracker: Tracker[dict[str, Any]], fixed_keys: KeyRing) -> None:
    url = tracker.click_url(TARGET)
    with pytest.raises(InvalidToken) as info:
        tracker.parse_click(url[:-3] + "xyz")
    text = str(info.value) + repr(info.value)
    for key_id in fixed_keys:
        assert b64encode(fixed_keys.secret(key_id)) not in text


def test_malformed_is_distinguished_for_logs(tracker: Tracker[dict[str, Any]]) -> None:
    with pytest.raises(MalformedToken):
        tracker.parse_click(CLICK_BASE + "***")
