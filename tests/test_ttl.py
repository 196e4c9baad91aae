"""Issue time and maximum age, always with an injected ``now=``."""

from __future__ import annotations

import time

import pytest

from support import CIPHERS, Combo, make_codec
from trackcodec import BadSignature, Codec, HMACCipher, KeyRing, TokenExpired, TokenHeader
from trackcodec.codec import b64decode, b64encode

ISSUED_AT = 1_789_459_200
PAYLOAD = {"url": "https://shop.example.com/p/42", "metadata": {"customer_id": 123456}}


@pytest.fixture(scope="module", params=CIPHERS)
def codec(request: pytest.FixtureRequest) -> Codec:
    return make_codec(Combo("msgpack", "deflate", request.param), timestamp=True)


def test_timestamp_is_written_in_the_header(codec: Codec) -> None:
    token = codec.encode(PAYLOAD, now=ISSUED_AT)
    head = TokenHeader.parse(token)
    assert head.issued_at == ISSUED_AT
    assert head.header_size == 7
    assert codec.decode_token(token).issued_at == ISSUED_AT


def test_fresh_token_decodes(codec: Codec) -> None:
    token = codec.encode(PAYLOAD, now=ISSUED_AT)
    assert codec.decode(token, max_age=60, now=ISSUED_AT) == PAYLOAD
    assert codec.decode(token, max_age=60, now=ISSUED_AT + 59.9) == PAYLOAD
    assert codec.decode(token, max_age=60, now=ISSUED_AT + 60) == PAYLOAD  # the boundary
    assert codec.decode(token, max_age=0, now=ISSUED_AT) == PAYLOAD


def test_expired_token_raises_token_expired_with_issue_time(codec: Codec) -> None:
    token = codec.encode(PAYLOAD, now=ISSUED_AT)
    for now in (ISSUED_AT + 60.5, ISSUED_AT + 61, ISSUED_AT + 10**6):
        with pytest.raises(TokenExpired) as caught:
            codec.decode(token, max_age=60, now=now)
        assert caught.value.issued_at == ISSUED_AT


def test_without_max_age_age_is_not_checked(codec: Codec) -> None:
    token = codec.encode(PAYLOAD, now=ISSUED_AT)
    assert codec.decode(token) == PAYLOAD
    assert codec.decode(token, now=ISSUED_AT + 10**9) == PAYLOAD


def test_token_without_timestamp_cannot_pass_max_age() -> None:
    untimed = make_codec(Combo("msgpack", "deflate", "aes-siv"))
    token = untimed.encode(PAYLOAD)
    assert TokenHeader.parse(token).issued_at is None
    with pytest.raises(TokenExpired) as caught:
        untimed.decode(token, max_age=10**9, now=ISSUED_AT)
    assert caught.value.issued_at is None
    # The timestamp setting of the decoding codec does not matter.
    timed = make_codec(Combo("msgpack", "deflate", "aes-siv"), timestamp=True)
    with pytest.raises(TokenExpired):
        timed.decode(token, max_age=10**9, now=ISSUED_AT)
    assert timed.decode(token) == PAYLOAD


def test_encode_uses_the_clock_without_now() -> None:
    codec = make_codec(Combo("json", "none", "hmac"), timestamp=True)
    before = int(time.time())
    issued_at = TokenHeader.parse(codec.encode(PAYLOAD)).issued_at
    after = int(time.time())
    assert issued_at is not None
    assert before <= issued_at <= after
    # and decode compares with the clock without now (a fresh token passes).
    assert codec.decode(codec.encode(PAYLOAD), max_age=3600) == PAYLOAD


def test_fractional_now_is_truncated() -> None:
    codec = make_codec(Combo("json", "none", "hmac"), timestamp=True)
    assert TokenHeader.parse(codec.encode(PAYLOAD, now=ISSUED_AT + 0.99)).issued_at == ISSUED_AT


@pytest.mark.parametrize("now", [-1, 2**32, 1e12])
def test_issue_time_out_of_range_is_refused(now: float) -> None:
    codec = make_codec(Combo("json", "none", "hmac"), timestamp=True)
    with pytest.raises(ValueError, match="issue time"):
        codec.encode(PAYLOAD, now=now)


@pytest.mark.parametrize("now", [0, 2**32 - 1])
def test_issue_time_range_ends(now: int) -> None:
    codec = make_codec(Combo("json", "none", "hmac"), timestamp=True)
    token = codec.encode(PAYLOAD, now=now)
    assert codec.decode_token(token).issued_at == now


def test_expiry_is_checked_only_after_authentication() -> None:
    # An attacker cannot learn anything from "expired": a forged token with an
    # old timestamp is a bad signature, not an expired token.
    codec = Codec(keys=KeyRing.generate(), cipher=HMACCipher, timestamp=True)
    forger = Codec(keys=KeyRing.generate(), cipher=HMACCipher, timestamp=True)
    forged = forger.encode(PAYLOAD, now=0)
    with pytest.raises(BadSignature):
        codec.decode(forged, max_age=60, now=ISSUED_AT)
    # Rewinding the timestamp of a genuine token breaks its signature.
    raw = b64decode(codec.encode(PAYLOAD, now=ISSUED_AT - 3600))
    rewound = raw[:3] + ISSUED_AT.to_bytes(4, "big") + raw[7:]
    with pytest.raises(BadSignature):
        codec.decode(b64encode(rewound), max_age=60, now=ISSUED_AT)
