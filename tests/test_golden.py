"""Golden vectors: a format change can never slip in unnoticed.

``vectors/golden_v1.json`` was written by ``vectors/make_golden.py``. Every
deterministic combination must encode its fixed payload to exactly the stored
token, and every stored token (randomized ciphers included) must keep
decoding to its payload. Never regenerate the file to make these pass.
"""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from support import (
    CIPHER_IDS,
    COMPRESSOR_IDS,
    DETERMINISTIC_CIPHERS,
    GOLDEN_ENCODE_COMPRESSORS,
    PACKAGED_PAYLOADS,
    RANDOMIZED_CIPHERS,
    SERIALIZER_IDS,
    SERIALIZERS,
    SHARED_PAYLOADS,
    fixed_ring,
    load_reference_payloads,
    make_codec,
)
from trackcodec import FORMAT_VERSION, Codec, KeyRing, TokenHeader

GOLDEN = json.loads(
    (Path(__file__).parent / "vectors" / "golden_v1.json").read_text(encoding="utf-8")
)
VECTORS: list[dict[str, Any]] = GOLDEN["vectors"]


def _id(vector: dict[str, Any]) -> str:
    stamp = "" if vector["issued_at"] is None else f"-ts{vector['issued_at']}"
    return (
        f"{vector['mode']}-{vector['serializer']}-{vector['compressor']}-{vector['cipher']}"
        f"-{vector['payload_name']}-key{vector['key_id']}{stamp}"
    )


def _codec(vector: dict[str, Any]) -> Codec:
    combo = (vector["serializer"], vector["compressor"], vector["cipher"])
    ring = KeyRing.from_string(GOLDEN["keys"])
    secrets = {k: ring.secret(k) for k in ring}
    return make_codec(
        combo,
        keys=KeyRing(secrets, primary=vector["key_id"]),
        timestamp=vector["issued_at"] is not None,
    )


def test_packaged_reference_payloads_are_a_faithful_copy() -> None:
    # The package ships the payloads users measure; ../shared, when present, must agree.
    bundled = json.loads(PACKAGED_PAYLOADS.read_text(encoding="utf-8"))
    if SHARED_PAYLOADS.is_file():
        assert bundled == json.loads(SHARED_PAYLOADS.read_text(encoding="utf-8"))
    assert set(bundled) - {"_about"} == {"open", "click", "fat"}
    assert load_reference_payloads()["fat"] == bundled["fat"]


def test_golden_file_matches_this_format_version_and_key_ring() -> None:
    assert GOLDEN["format_version"] == FORMAT_VERSION == 1
    assert KeyRing.from_string(GOLDEN["keys"]) == fixed_ring()


def test_every_deterministic_combination_has_an_encode_vector() -> None:
    encoded = {
        (v["serializer"], v["compressor"], v["cipher"]) for v in VECTORS if v["mode"] == "encode"
    }
    assert encoded == set(product(SERIALIZERS, GOLDEN_ENCODE_COMPRESSORS, DETERMINISTIC_CIPHERS))
    decoded = {
        (v["serializer"], v["cipher"])
        for v in VECTORS
        if v["mode"] == "decode" and v["compressor"] != "zstd-dict"
    }
    assert decoded == set(product(SERIALIZERS, RANDOMIZED_CIPHERS))
    # zstd's output may change with the library version, its format never: decoded only.
    zstd = {(v["serializer"], v["cipher"]) for v in VECTORS if v["compressor"] == "zstd-dict"}
    assert zstd == set(product(SERIALIZERS, DETERMINISTIC_CIPHERS))
    zstd_tokens = [v["token"] for v in VECTORS if v["compressor"] == "zstd-dict"]
    assert {TokenHeader.parse(token).compressor_id for token in zstd_tokens} == {0, 3}
    # Timestamps, key ids other than 0, and both compressed and uncompressed tokens.
    assert any(v["issued_at"] for v in VECTORS)
    assert {v["key_id"] for v in VECTORS} >= {0, 7, 200}
    assert {TokenHeader.parse(v["token"]).compressor_id != 0 for v in VECTORS} == {True, False}


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["mode"] == "encode"], ids=_id)
def test_encode_gives_the_golden_token(vector: dict[str, Any]) -> None:
    codec = _codec(vector)
    assert codec.encode(vector["payload"], now=vector["issued_at"]) == vector["token"]


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_golden_token_decodes(vector: dict[str, Any]) -> None:
    codec = _codec(vector)
    info = codec.decode_token(vector["token"])
    assert info.payload == vector["payload"]
    assert info.key_id == vector["key_id"]
    assert info.issued_at == vector["issued_at"]
    assert info.serializer == vector["serializer"]
    assert info.cipher == vector["cipher"]
    assert info.compressor in ("none", vector["compressor"])
    head = TokenHeader.parse(vector["token"])
    assert head.version == FORMAT_VERSION
    assert head.serializer_id == SERIALIZER_IDS[vector["serializer"]]
    assert head.cipher_id == CIPHER_IDS[vector["cipher"]]
    assert head.compressor_id in (0, COMPRESSOR_IDS[vector["compressor"]])


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_golden_token_decodes_with_the_default_codec_settings(vector: dict[str, Any]) -> None:
    # Tokens are self-describing: a codec with other encode settings reads them.
    other = "schema" if vector["serializer"] == "schema" else "msgpack"
    codec = make_codec((other, "deflate", "aes-siv"), accept_unauthenticated=True)
    assert codec.decode(vector["token"]) == vector["payload"]
