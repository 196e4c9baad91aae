"""Fuzz: hostile input to ``decode`` raises `InvalidToken` subclasses and nothing else.

Each generated input goes through several codecs at once, among them codecs
that accept plain (unauthenticated) tokens: with those, random bodies reach
the decompressors and deserializers, which is where a stray exception would
come from.
"""

from __future__ import annotations

import contextlib
import json

import msgpack
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from support import (
    B64URL_ALPHABET,
    Combo,
    fixed_ring,
    make_codec,
    raw_token,
)
from trackcodec import (
    Codec,
    HMACCipher,
    InvalidToken,
    JSONSerializer,
    Limits,
    TokenHeader,
)
from trackcodec.codec import b64encode
from trackcodec.compressors import DeflateCompressor, DeflateDictCompressor
from trackcodec.serializers.msgpack import default as msgpack_default
from trackcodec.zstd import ZstdDictCompressor

FUZZ = settings(max_examples=2000)
SMALL_LIMITS = Limits(max_token_length=600, max_payload_size=256, max_depth=4)

CODECS: list[Codec] = [
    make_codec(Combo("msgpack", "deflate", "aes-siv")),
    make_codec(Combo("json", "deflate-dict", "hmac")),
    make_codec(Combo("msgpack", "none", "xchacha20")),
    make_codec(Combo("schema", "deflate", "secretbox")),
    make_codec(Combo("json", "none", "fernet")),
    make_codec(Combo("json", "deflate", "plain")),
    make_codec(Combo("msgpack", "deflate-dict", "plain")),
    make_codec(Combo("msgpack", "zstd-dict", "aes-siv")),
    make_codec(Combo("json", "zstd-dict", "plain")),
    make_codec(Combo("schema", "none", "plain")),
    make_codec(Combo("schema", "deflate", "aes-siv"), accept_unauthenticated=True),
    make_codec(
        Combo("msgpack", "deflate", "hmac"), accept_unauthenticated=True, limits=SMALL_LIMITS
    ),
    Codec(serializer=JSONSerializer(), cipher=HMACCipher, keys=fixed_ring(), limits=SMALL_LIMITS),
]
SIGNER = HMACCipher(fixed_ring().secret(0))
ZSTD = ZstdDictCompressor()


def _decode_everywhere(token: str) -> None:
    for codec in CODECS:
        with contextlib.suppress(InvalidToken):
            codec.decode(token)
    for codec in CODECS[:2]:
        with contextlib.suppress(InvalidToken):
            codec.decode(token, max_age=60, now=1_789_459_200)
    with contextlib.suppress(InvalidToken):
        TokenHeader.parse(token)


@FUZZ
@given(text=st.text() | st.text(alphabet=B64URL_ALPHABET + "=+/. ", max_size=200))
@example(text="")
@example(text="====")
@example(text="EBIA")
@example(text="EBIA=")
@example(text="EBIA\n")
@example(text="é" * 8)
@example(text="\ud800\udfff")
@example(text="A" * 5000)
def test_random_text(text: str) -> None:
    _decode_everywhere(text)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _decode_everywhere(b64encode(data))


def _plausible_header(seed: bytes) -> bytes:
    """A header that passes the first checks, from 3 random bytes.

    Version 1 and the reserved flag clear; serializer ids 1-4 and cipher ids
    0-7 (mostly known, some not); a key id of the ring three times in four.
    """
    flags, ids, key = seed
    serializer = 1 + (ids >> 4) % 4
    cipher = ids % 8
    key_id = (0, 7, 200)[key % 3] if key < 192 else key
    return bytes((0x10 | (flags & 0x07), (serializer << 4) | cipher, key_id))


# (One binary draw per example: Hypothesis costs more per draw than a decode.)
@FUZZ
@given(data=st.binary(min_size=3, max_size=300))
@example(data=b"\x11\x10\x00")
@example(data=b"\x12\x20\x00\x01")
@example(data=b"\x14\x10\x00")
def test_valid_looking_header_then_random_bytes(data: bytes) -> None:
    _decode_everywhere(b64encode(_plausible_header(data[:3]) + data[3:]))


@FUZZ
@given(data=st.binary(min_size=1, max_size=200))
@example(data=b"\x00" + b"[" * 5000)
@example(data=b"\x01" + b"\x91" * 3000)
@example(data=b"\x02" + b"\x91" * 3000)
def test_random_payloads_behind_a_valid_envelope(data: bytes) -> None:
    """Random bodies that authenticate (plain or HMAC-signed) and decompress.

    The first byte chooses the serializer, the compression, the timestamp and
    the signature, so the decompressors and deserializers see hostile data
    that went through every earlier stage.
    """
    control, body = data[0], data[1:]
    compressor_id = (control >> 2) % 4
    if control & 0x40 and compressor_id == 1:
        body = DeflateCompressor().compress(body)
    elif control & 0x40 and compressor_id == 2:
        body = DeflateDictCompressor().compress(body)
    elif control & 0x40 and compressor_id == 3:
        body = ZSTD.compress(body)
    signed = bool(control & 0x80)
    token = raw_token(
        body,
        serializer_id=1 + control % 3,
        compressor_id=compressor_id,
        cipher_id=1 if signed else 0,
        issued_at=1_789_459_200 if control & 0x20 else None,
        seal=SIGNER if signed else None,
    )
    _decode_everywhere(token)


def _value_from_bytes(program: bytes) -> object:
    """A small JSON-like value of any shape, built by a tiny stack machine.

    Each byte pushes a scalar, opens a list or a mapping, or closes one; so one
    cheap binary draw gives every shape (a recursive strategy costs far more
    per example), and Hypothesis still shrinks it well.
    """
    stack: list[tuple[list[object], bool]] = [([], False)]  # (items, is_mapping)

    def close() -> None:
        items, is_mapping = stack.pop()
        value = {f"k{i}": v for i, v in enumerate(items)} if is_mapping else items
        stack[-1][0].append(value)

    for op in program:
        kind, arg = op & 7, op >> 3
        if kind == 0:
            stack[-1][0].append(None)
        elif kind == 1:
            stack[-1][0].append(bool(arg & 1))
        elif kind == 2:
            stack[-1][0].append(arg - 16)
        elif kind == 3:
            stack[-1][0].append((arg - 16) * 2**62)  # beyond 64 bits, both signs
        elif kind == 4:
            stack[-1][0].append("é✓xab"[: arg % 6] * (1 + arg // 6))
        elif kind in (5, 6) and len(stack) < 40:
            stack.append(([], kind == 6))
        elif kind == 7 and len(stack) > 1:
            close()
    while len(stack) > 1:
        close()
    items = stack[0][0]
    return items[0] if len(items) == 1 else items


@FUZZ
@given(program=st.binary(min_size=1, max_size=60))
@example(program=b"\x06\x02\x0a\x07")  # {"k0": 0, "k1": 1}: fine for json and msgpack
@example(program=b"\x05\x06\x02")  # [{"k0": 0}]: a schema record holding a mapping
def test_well_formed_but_unexpected_payloads(program: bytes) -> None:
    """Valid JSON and msgpack of any shape behind a valid signature.

    Top level not a mapping, schema records of the wrong arity or type, deep
    nesting...: the first byte picks the encoding, compression and serializer id.
    """
    control, value = program[0], _value_from_bytes(program[1:])
    if control & 1:
        data = json.dumps(value).encode()
    else:
        data = msgpack.packb(value, default=msgpack_default)
    compressor_id = (control >> 1) % 3
    if compressor_id == 1:
        data = DeflateCompressor().compress(data)
    elif compressor_id == 2:
        data = DeflateDictCompressor().compress(data)
    token = raw_token(
        data,
        serializer_id=1 + (control >> 3) % 3,
        compressor_id=compressor_id,
        cipher_id=1,
        seal=SIGNER,
    )
    _decode_everywhere(token)


def test_value_builder_makes_every_shape() -> None:
    assert _value_from_bytes(b"\x06\x02\x0a\x07") == {"k0": -16, "k1": -15}
    assert _value_from_bytes(b"\x05\x05\x00") == [[None]]
    assert _value_from_bytes(b"\x00\x09") == [None, True]
    assert _value_from_bytes(b"\x8b") == 2**62
    assert _value_from_bytes(b"\x04\x0c\x14\x7c") == ["", "é", "é✓", "é✓x" * 3]
    assert _value_from_bytes(b"") == []


@pytest.mark.parametrize("codec", CODECS, ids=repr)
def test_fuzzed_codecs_still_work(codec: Codec) -> None:
    # The codecs above must not be so restricted that they refuse everything.
    payload = {"url": "https://x.example/", "metadata": {"customer_id": 1}}
    assert codec.decode(codec.encode(payload)) == payload
