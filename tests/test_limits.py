"""Limits: token length, decompressed size and nesting depth, on decode and on encode."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trackcodec.codec
from support import ALL_COMBOS, Combo, cached_codec, fixed_ring, make_codec, raw_token
from trackcodec import (
    Codec,
    ConfigurationError,
    HMACCipher,
    InvalidToken,
    JSONSerializer,
    LimitExceeded,
    Limits,
    MalformedToken,
)
from trackcodec.compressors import DeflateCompressor, DeflateDictCompressor
from trackcodec.wire import check_nesting
from trackcodec.zstd import ZstdDictCompressor

BIG = Limits(max_token_length=10**6, max_payload_size=10**7, max_depth=256)
SIGNER = HMACCipher(fixed_ring().secret(0))


def _nested(depth: int) -> dict[str, Any]:
    """A payload ``depth`` levels deep (a flat mapping is 1 level)."""
    payload: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        payload = {"a": payload}
    return payload


def _nested_list(depth: int) -> dict[str, Any]:
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"a": value}


# -- Limits itself ------------------------------------------------------------------


def test_defaults() -> None:
    limits = Limits()
    assert (limits.max_token_length, limits.max_payload_size, limits.max_depth) == (
        4096,
        65536,
        32,
    )
    assert make_codec(Combo("json", "none", "hmac")).limits == limits


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_token_length", 0),
        ("max_token_length", -1),
        ("max_payload_size", 0),
        ("max_depth", 0),
        ("max_depth", 257),
    ],
)
def test_invalid_limits(field: str, value: int) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Limits(**{field: value})
    assert caught.value.field == field


# -- token length -------------------------------------------------------------------


def test_token_length_is_checked_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = make_codec(Combo("msgpack", "deflate", "aes-siv"))

    def must_not_run(text: str) -> bytes:
        raise AssertionError("decoded a token longer than the limit")

    monkeypatch.setattr(trackcodec.codec, "b64decode", must_not_run)
    for token in ("A" * 4097, "!" * 4097, "é" * 5000, "A" * 10**6):
        with pytest.raises(LimitExceeded):
            codec.decode(token)
    # "!" is not base64url: a length error means the length came first.
    monkeypatch.undo()
    with pytest.raises(MalformedToken):
        codec.decode("!" * 4096)


def test_long_genuine_token_is_refused_by_a_stricter_codec() -> None:
    payload = {"k": "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(500))}
    generous = make_codec(Combo("json", "deflate", "hmac"), limits=BIG)
    token = generous.encode(payload)
    assert 1000 < len(token) < 4096
    strict = make_codec(Combo("json", "deflate", "hmac"), limits=Limits(max_token_length=1000))
    with pytest.raises(LimitExceeded, match="longer than 1000"):
        strict.decode(token)
    assert make_codec(Combo("json", "deflate", "hmac")).decode(token) == payload


@pytest.mark.parametrize("combo", ALL_COMBOS, ids=str)
def test_encode_refuses_tokens_longer_than_the_limit(combo: Combo) -> None:
    codec = make_codec(combo, limits=Limits(max_token_length=100))
    long_url = "https://example.com/" + "".join(f"{i * 7919 % 10007:x}" for i in range(100))
    with pytest.raises(ValueError, match="max_token_length=100"):
        codec.encode({"url": long_url})


def test_token_of_exactly_the_maximum_length_is_accepted() -> None:
    generous = make_codec(Combo("json", "none", "hmac"), limits=BIG)
    for size in range(100, 140):
        token = generous.encode({"k": "x" * size})
        exact = make_codec(
            Combo("json", "none", "hmac"), limits=Limits(max_token_length=len(token))
        )
        assert exact.decode(exact.encode({"k": "x" * size})) == {"k": "x" * size}
        shorter = Limits(max_token_length=len(token) - 1)
        with pytest.raises(LimitExceeded):
            make_codec(Combo("json", "none", "hmac"), limits=shorter).decode(token)


# -- decompressed size --------------------------------------------------------------


@pytest.mark.parametrize("compressor", ["deflate", "deflate-dict", "zstd-dict"])
@pytest.mark.parametrize("cipher", ["aes-siv", "hmac", "plain"])
def test_compression_bomb_is_refused(compressor: str, cipher: str) -> None:
    payload = {"k": "x" * 100_000}
    combo = Combo("msgpack", compressor, cipher)
    token = make_codec(combo, limits=BIG).encode(payload)
    assert len(token) < 600  # small token, large payload
    with pytest.raises(LimitExceeded, match="65536"):
        make_codec(combo).decode(token)
    strict = make_codec(combo, limits=Limits(max_payload_size=1000))
    with pytest.raises(LimitExceeded):
        strict.decode(token)
    assert make_codec(combo, limits=BIG).decode(token) == payload


@pytest.mark.parametrize("compressor", ["none", "deflate", "deflate-dict", "zstd-dict"])
def test_payload_of_exactly_the_maximum_size_round_trips(compressor: str) -> None:
    size = 1000
    overhead = len(JSONSerializer().dumps({"a": ""}))
    limits = Limits(max_payload_size=size, max_token_length=10**5)
    codec = make_codec(Combo("json", compressor, "hmac"), limits=limits)
    for filler in ("x", "ab", "0123456789"):
        payload = {"a": (filler * size)[: size - overhead]}
        assert len(codec.serializer.dumps(payload)) == size
        assert codec.decode(codec.encode(payload)) == payload
        too_big = {"a": payload["a"] + "y"}
        with pytest.raises(ValueError, match="larger than 1000 bytes"):
            codec.encode(too_big)
        token = make_codec(Combo("json", compressor, "hmac"), limits=BIG).encode(too_big)
        with pytest.raises(LimitExceeded):
            codec.decode(token)


@pytest.mark.parametrize("compressor", ["none", "deflate", "deflate-dict", "zstd-dict"])
def test_encode_refuses_payloads_larger_than_the_limit_even_if_they_compress(
    compressor: str,
) -> None:
    # Otherwise the codec would mint a token that it then refuses to decode.
    codec = make_codec(Combo("msgpack", compressor, "aes-siv"))
    with pytest.raises(ValueError, match="65536"):
        codec.encode({"k": "x" * 70_000})


def test_uncompressed_payload_over_the_limit_is_refused() -> None:
    token = make_codec(Combo("json", "none", "hmac"), limits=BIG).encode({"k": "x" * 2000})
    strict = make_codec(Combo("json", "none", "hmac"), limits=Limits(max_payload_size=1000))
    with pytest.raises(LimitExceeded):
        strict.decode(token)


def test_hand_made_bombs_behind_a_valid_signature() -> None:
    bomb = b'{"k":"' + b"x" * 1_000_000 + b'"}'
    for compressor_id, compressor in (
        (1, DeflateCompressor()),
        (2, DeflateDictCompressor()),
        (3, ZstdDictCompressor()),
    ):
        body = compressor.compress(bomb)
        token = raw_token(
            body, serializer_id=1, compressor_id=compressor_id, cipher_id=1, seal=SIGNER
        )
        assert len(token) < 4096
        with pytest.raises(LimitExceeded):
            cached_codec(Combo("json", "deflate", "hmac")).decode(token)


# -- nesting depth ------------------------------------------------------------------


@pytest.mark.parametrize("combo", [c for c in ALL_COMBOS if c.serializer != "schema"], ids=str)
def test_nesting_deeper_than_the_limit_is_refused(combo: Combo) -> None:
    codec = make_codec(combo, limits=Limits(max_depth=8), accept_unauthenticated=True)
    generous = make_codec(combo, limits=BIG)
    for make in (_nested, _nested_list):
        assert codec.decode(codec.encode(make(8))) == make(8)
        token = generous.encode(make(9))
        with pytest.raises(LimitExceeded, match="deeper"):
            codec.decode(token)
        with pytest.raises(ValueError, match="max_depth=8"):
            codec.encode(make(9))


def test_default_depth_limit() -> None:
    codec = make_codec(Combo("msgpack", "deflate", "aes-siv"))
    assert codec.decode(codec.encode(_nested(32))) == _nested(32)
    token = make_codec(Combo("msgpack", "deflate", "aes-siv"), limits=BIG).encode(_nested(33))
    with pytest.raises(LimitExceeded):
        codec.decode(token)


def test_schema_nesting_is_limited_too() -> None:
    # The schema serializer's top level costs no byte: a record of nested
    # arrays is one level deeper than its byte count suggests.
    limits = Limits(max_depth=3)
    codec = make_codec(Combo("schema", "none", "hmac"), limits=limits)
    body = b"\x91\x91\x90"  # metadata=[[[]]]: {"metadata": {"customer_id": [[]]}}, 4 levels
    token = raw_token(body, serializer_id=3, cipher_id=1, seal=SIGNER)
    with pytest.raises(LimitExceeded):
        codec.decode(token)
    ok = raw_token(b"\x91\x90", serializer_id=3, cipher_id=1, seal=SIGNER)  # 3 levels
    assert codec.decode(ok) == {"metadata": {"customer_id": []}}
    # and encode refuses to mint what decode would refuse.
    assert codec.serializer.dumps({"metadata": {"customer_id": [[]]}}) == body
    with pytest.raises(ValueError, match="max_depth=3"):
        codec.encode({"metadata": {"customer_id": [[]]}})
    assert codec.decode(codec.encode({"metadata": {"customer_id": []}})) == {
        "metadata": {"customer_id": []}
    }


@pytest.mark.parametrize("depth", [100, 900, 3000, 50_000])
@pytest.mark.parametrize("cipher_id", [0, 1], ids=["plain", "hmac"])
def test_very_deep_json_is_an_invalid_token_not_a_recursion_error(
    depth: int, cipher_id: int
) -> None:
    bodies = {
        1: b'{"a":' * depth + b"1" + b"}" * depth,
        2: b"\x81\xa1a" * depth + b"\x01",  # msgpack
        3: b"\x91" * depth + b"\x90",  # schema
    }
    generous = make_codec(
        Combo("schema", "deflate", "hmac"), limits=BIG, accept_unauthenticated=True
    )
    for serializer_id, body in bodies.items():
        for compressor_id, packed in ((0, body), (1, DeflateCompressor().compress(body))):
            token = raw_token(
                packed,
                serializer_id=serializer_id,
                compressor_id=compressor_id,
                cipher_id=cipher_id,
                seal=SIGNER if cipher_id else None,
            )
            # Past a few hundred levels the parsers give up on their own.
            expected = LimitExceeded if depth <= 256 else InvalidToken
            for codec in (
                cached_codec(Combo("schema", "deflate", "plain")),
                cached_codec(Combo("schema", "deflate", "hmac"), accept_unauthenticated=True),
            ):
                with pytest.raises(expected):
                    codec.decode(token)
            if depth <= 256:  # within the largest max_depth
                assert generous.decode(token)
            else:
                with pytest.raises(InvalidToken):
                    generous.decode(token)


def test_deep_payload_cannot_even_be_encoded_past_the_limit() -> None:
    codec = Codec(keys=fixed_ring(), cipher=HMACCipher, limits=Limits(max_depth=4))
    for payload in (_nested(5), _nested_list(5), {"a": ({"b": [[1]]},)}):
        with pytest.raises(ValueError, match="max_depth"):
            codec.encode(payload)


_LEAVES = st.one_of(
    st.integers(-(2**70), 2**70),
    st.text(alphabet="[{}]\x80\x90\xdc\xdfab", max_size=12),  # container bytes in strings
    st.booleans(),
    st.none(),
)
_TREES = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="[{ab", max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(tree=_TREES, serializer=st.sampled_from(["json", "msgpack"]))
def test_decoding_refuses_exactly_the_payloads_nested_too_deep(tree: Any, serializer: str) -> None:
    # Decoding skips the walk when the payload has fewer container-opening bytes
    # than the limit: the outcome must be what walking every payload gives.
    payload = {"k": tree, "pad": "x" * 40}  # long enough to be considered at all
    combo = Combo(serializer, "none", "hmac")
    token = make_codec(combo, limits=BIG).encode(payload)
    strict = make_codec(combo, limits=Limits(max_depth=3))
    try:
        check_nesting(payload, 3)
    except LimitExceeded:
        with pytest.raises(LimitExceeded):
            strict.decode(token)
    else:
        assert strict.decode(token) == payload
