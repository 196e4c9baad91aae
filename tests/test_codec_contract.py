"""The codec contract, written once and run against every serializer x compressor x cipher."""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import pytest
from hypothesis import example, given, settings

from support import (
    ALL_COMBOS,
    AUTHENTICATED_CIPHERS,
    CIPHER_IDS,
    COMPRESSOR_IDS,
    DETERMINISTIC_CIPHERS,
    ENCRYPTING_CIPHERS,
    RANDOMIZED_CIPHERS,
    SERIALIZER_IDS,
    Combo,
    Payload,
    cached_codec,
    fixed_ring,
    json_payloads,
    load_reference_payloads,
    make_codec,
    payload_instances,
)
from trackcodec import (
    BadSignature,
    Codec,
    InsecurePlainCipher,
    JSONSerializer,
    TokenHeader,
    UnknownKey,
    UnsupportedToken,
)
from trackcodec.codec import b64decode

REFERENCE = load_reference_payloads()
FREE_COMBOS = [c for c in ALL_COMBOS if c.serializer != "schema"]
SCHEMA_COMBOS = [c for c in ALL_COMBOS if c.serializer == "schema"]


@pytest.fixture(scope="module", params=ALL_COMBOS, ids=str)
def combo(request: pytest.FixtureRequest) -> Combo:
    """Every combination."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=FREE_COMBOS, ids=str)
def free_combo(request: pytest.FixtureRequest) -> Combo:
    """Combinations whose serializer carries any JSON-like mapping."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=SCHEMA_COMBOS, ids=str)
def schema_combo(request: pytest.FixtureRequest) -> Combo:
    """Combinations of the schema serializer."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def codec(combo: Combo) -> Codec:
    return cached_codec(combo)


# -- round trips --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["open", "click", "fat"])
def test_reference_payload_round_trip(codec: Codec, name: str) -> None:
    payload = REFERENCE[name]
    token = codec.encode(payload)
    assert codec.decode(token) == payload


def test_token_is_unpadded_base64url_with_a_4_character_header(codec: Codec, combo: Combo) -> None:
    token = codec.encode(REFERENCE["fat"])
    assert token.isascii()
    assert "=" not in token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert raw[:3] == base64.urlsafe_b64decode(token[:4])
    head = TokenHeader.parse(token)
    assert head.version == 1
    assert head.serializer_id == SERIALIZER_IDS[combo.serializer]
    assert head.cipher_id == CIPHER_IDS[combo.cipher]
    assert head.compressor_id in (0, COMPRESSOR_IDS[combo.compressor])
    assert head.key_id == 0
    assert head.issued_at is None
    assert head.header_size == 3
    assert head.header_size + head.body_size == len(raw)


def test_decode_token_describes_the_token(codec: Codec, combo: Combo) -> None:
    token = codec.encode(REFERENCE["click"])
    info = codec.decode_token(token)
    assert info.payload == REFERENCE["click"]
    assert info.serializer == combo.serializer
    assert info.cipher == combo.cipher
    expected_compressor = (
        "none" if TokenHeader.parse(token).compressor_id == 0 else combo.compressor
    )
    assert info.compressor == expected_compressor
    assert info.key_id == 0
    assert info.issued_at is None
    assert info.version == 1
    assert info.authenticated is (combo.cipher in AUTHENTICATED_CIPHERS)
    assert info.encrypted is (combo.cipher in ENCRYPTING_CIPHERS)


def test_encrypting_ciphers_hide_the_payload(combo: Combo) -> None:
    # Without compression the payload bytes would show through unless encrypted.
    codec = cached_codec(combo._replace(compressor="none"))
    raw = b64decode(codec.encode(REFERENCE["click"]))
    visible = b"shop.example.com" in raw
    assert visible is (combo.cipher not in ENCRYPTING_CIPHERS)


# Generating a payload costs far more than a round trip, so each generated
# payload goes through every combination at once.


@settings(max_examples=150)
@given(payload=json_payloads)
@example(
    payload={
        "": {},
        "empty_list": [],
        "nested": {"a": [{"b": [[], {}]}], "ü": None},
        "unicode": "héllo wörld ✓ 𝄞 日本語 \x00\u2028",
        "u64": 2**64 - 1,
        "i64": -(2**63),
        "big": 2**64,
        "bigger": -(2**64) - 1,
        "huge": 3**100,
        "floats": [0.1, -0.0, 1e308, 5e-324, -2.5],
        "bools": [True, False, None],
    }
)
def test_json_like_payloads_round_trip_in_every_combination(payload: dict[str, Any]) -> None:
    for combo in FREE_COMBOS:
        codec = cached_codec(combo)
        assert codec.decode(codec.encode(payload)) == payload, combo


@settings(max_examples=100)
@given(instance=payload_instances)
def test_schema_model_instances_round_trip_in_every_combination(instance: Payload) -> None:
    # The codec takes mappings; the schema serializer also takes the instance itself.
    payload = instance.model_dump(exclude_unset=True)
    for combo in SCHEMA_COMBOS:
        codec = cached_codec(combo)
        assert codec.serializer.dumps(instance) == codec.serializer.dumps(payload)  # type: ignore[arg-type]
        decoded = codec.decode(codec.encode(payload))
        assert Payload.model_validate(decoded) == instance, combo


@pytest.mark.parametrize("serializer", ["msgpack", "schema"])
def test_msgpack_based_serializers_carry_what_json_cannot(serializer: str) -> None:
    codec = make_codec((serializer, "deflate", "aes-siv"))
    if serializer == "msgpack":
        payload: dict[str, Any] = {"inf": math.inf, "ninf": -math.inf, "bytes": b"\x00\xff"}
        decoded = codec.decode(codec.encode({**payload, "nan": math.nan}))
        assert math.isnan(decoded.pop("nan"))
        assert decoded == payload
    else:
        payload = {"url": "https://x.example/" + "é" * 40, "metadata": {"customer_id": 2**100}}
        assert codec.decode(codec.encode(payload)) == payload


@pytest.mark.parametrize("combo", [Combo("json", "deflate", "hmac")], ids=str)
def test_json_refuses_nan_and_infinity(combo: Combo) -> None:
    codec = make_codec(combo)
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="JSON"):
            codec.encode({"x": value})


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
@pytest.mark.parametrize("value", [{1, 2}, object(), 1j], ids=["set", "object", "complex"])
def test_unserializable_values_raise_type_error(serializer: str, value: object) -> None:
    codec = make_codec((serializer, "none", "hmac"))
    with pytest.raises(TypeError):
        codec.encode({"x": value})


@pytest.mark.parametrize("payload", [[("a", 1)], "a=1", None, 42], ids=repr)
def test_payload_must_be_a_mapping(codec: Codec, payload: object) -> None:
    with pytest.raises(TypeError):
        codec.encode(payload)  # type: ignore[arg-type]


def test_schema_refuses_unknown_keys_and_missing_required_fields() -> None:
    codec = make_codec(("schema", "none", "hmac"))
    with pytest.raises(ValueError, match="no field 'nope'"):
        codec.encode({"nope": 1})
    with pytest.raises(ValueError, match="customer_id is required"):
        codec.encode({"metadata": {"campaign": "x"}})


def test_schema_keeps_decoding_when_optional_fields_are_appended() -> None:
    # A model that is a prefix of Payload stands for last year's model: its
    # tokens must still decode with today's, and today's decode with it as
    # long as the new trailing fields are unset.
    from pydantic import BaseModel

    class Meta(BaseModel):
        customer_id: int
        campaign: str | None = None

    class OldPayload(BaseModel):
        metadata: Meta | None = None
        url: str | None = None

    old = Codec.from_names(serializer="schema", model=OldPayload, keys=fixed_ring())
    new = make_codec(("schema", "deflate", "aes-siv"))
    click = REFERENCE["click"]
    assert new.decode(old.encode(click)) == click
    assert old.decode(new.encode(click)) == click


# -- cross-decoding -----------------------------------------------------------------


@pytest.mark.parametrize("made_by", ALL_COMBOS, ids=str)
def test_any_codec_decodes_tokens_of_any_combination(made_by: Combo) -> None:
    payload = REFERENCE["fat"]
    token = cached_codec(made_by).encode(payload)
    for decoder_combo in ALL_COMBOS:
        decoder = cached_codec(decoder_combo)
        lenient = cached_codec(decoder_combo, accept_unauthenticated=True)
        where = f"{made_by} decoded by {decoder_combo}"
        # The schema serializer needs the model, which only a schema codec has.
        needs_model = made_by.serializer == "schema" and decoder_combo.serializer != "schema"
        if made_by.cipher == "plain" and decoder_combo.cipher != "plain":
            with pytest.raises(BadSignature, match="unauthenticated"):
                decoder.decode(token)
        elif needs_model:
            with pytest.raises(UnsupportedToken, match="schema"):
                decoder.decode(token)
        else:
            assert decoder.decode(token) == payload, where
        if needs_model:
            with pytest.raises(UnsupportedToken, match="schema"):
                lenient.decode(token)
        else:
            assert lenient.decode(token) == payload, where


def test_plain_codec_without_keys_decodes_plain_tokens_only() -> None:
    keyless = Codec(serializer=JSONSerializer(), cipher=InsecurePlainCipher)
    payload = REFERENCE["click"]
    assert keyless.decode(keyless.encode(payload)) == payload
    assert keyless.decode(cached_codec(Combo("msgpack", "deflate", "plain")).encode(payload)) == (
        payload
    )
    for cipher in AUTHENTICATED_CIPHERS:
        token = cached_codec(Combo("json", "deflate", cipher)).encode(payload)
        with pytest.raises(UnknownKey):
            keyless.decode(token)


# -- compression --------------------------------------------------------------------

COMPRESSIBLE = {"url": "https://example.com/" + "abc" * 200, "metadata": {"customer_id": 1}}
# Base64 of random bytes: no repeats for deflate to find, 6 bits of entropy in 8.
NOISE = base64.b64encode(hashlib.sha512(b"incompressible").digest()).decode()
INCOMPRESSIBLE = {"k": NOISE}


@pytest.mark.parametrize("compressor", ["deflate", "deflate-dict", "zstd-dict"])
@pytest.mark.parametrize("serializer", ["json", "msgpack", "schema"])
@pytest.mark.parametrize("cipher", ["aes-siv", "fernet", "plain"])
def test_compressed_flag_is_set_only_when_shorter(
    serializer: str, compressor: str, cipher: str
) -> None:
    codec = cached_codec(Combo(serializer, compressor, cipher))
    # (The schema serializer has no key "k", and it sends no key names at all.)
    noise = {"url": NOISE} if serializer == "schema" else INCOMPRESSIBLE
    candidates = [*REFERENCE.values(), COMPRESSIBLE, noise]
    outcomes = set()
    for payload in candidates:
        data = codec.serializer.dumps(payload)
        shorter = len(codec.compressor.compress(data)) < len(data)
        compressor_id = TokenHeader.parse(codec.encode(payload)).compressor_id
        if compressor_id:
            assert compressor_id == COMPRESSOR_IDS[compressor]
            assert shorter, payload
        else:
            # Not compressed: compression would not have helped, or the payload
            # is too small for deflate to be worth trying.
            assert not shorter or len(data) < codec.compressor.min_size, payload
        outcomes.add(bool(compressor_id))
    assert outcomes == {True, False}


def test_incompressible_payload_is_sent_uncompressed() -> None:
    codec = cached_codec(Combo("json", "deflate", "hmac"))
    assert TokenHeader.parse(codec.encode(INCOMPRESSIBLE)).compressor_id == 0
    assert TokenHeader.parse(codec.encode(COMPRESSIBLE)).compressor_id == 1


def test_tiny_payloads_are_not_compressed() -> None:
    codec = cached_codec(Combo("msgpack", "deflate-dict", "aes-siv"))
    assert TokenHeader.parse(codec.encode({"a": 1})).compressor_id == 0


# -- determinism --------------------------------------------------------------------


@pytest.mark.parametrize("cipher", DETERMINISTIC_CIPHERS)
@pytest.mark.parametrize("serializer", ["json", "msgpack", "schema"])
def test_deterministic_ciphers_give_identical_tokens(serializer: str, cipher: str) -> None:
    payload = REFERENCE["fat"]
    first = make_codec((serializer, "deflate", cipher)).encode(payload)
    second = make_codec((serializer, "deflate", cipher)).encode(payload)
    assert first == second


@pytest.mark.parametrize("cipher", RANDOMIZED_CIPHERS)
@pytest.mark.parametrize("serializer", ["json", "msgpack", "schema"])
def test_randomized_ciphers_give_distinct_tokens_that_both_decode(
    serializer: str, cipher: str
) -> None:
    codec = cached_codec(Combo(serializer, "deflate", cipher))
    payload = REFERENCE["fat"]
    first, second = codec.encode(payload), codec.encode(payload)
    assert first != second
    assert first[:4] == second[:4]  # same header
    assert codec.decode(first) == codec.decode(second) == payload
