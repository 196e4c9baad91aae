"""Tampering with a token of an authenticated cipher raises an `InvalidToken` subclass.

Every bit of every byte is flipped, every header byte takes every value, the
token is truncated at every length and extended; the exact subclass is
checked wherever it is determined by what was changed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import NamedTuple

import pytest

from support import (
    AUTHENTICATED_CIPHERS,
    B64URL_ALPHABET,
    CIPHER_IDS,
    COMPRESSOR_IDS,
    Combo,
    fixed_secret,
    make_codec,
)
from trackcodec import (
    BadSignature,
    Codec,
    InvalidToken,
    KeyRing,
    MalformedToken,
    TokenHeader,
    UnknownKey,
    UnsupportedToken,
)
from trackcodec.codec import b64decode, b64encode
from trackcodec.registry import cipher_by_id

# Key 5 seals; key 4 is in the ring too, so a key id changed to 4 fails
# authentication while any other key id is unknown.
RING = KeyRing({5: fixed_secret(5), 4: fixed_secret(4)}, primary=5)
ISSUED_AT = 1_789_459_200
PAYLOAD = {
    "url": "https://shop.example.com/p/42?utm_source=mail&utm_medium=email",
    "metadata": {"customer_id": 123456, "campaign": "fall-2026", "list": [1, 2.5, None]},
}


class Sealed(NamedTuple):
    codec: Codec
    cipher_id: int
    raw: bytes
    header_size: int


@pytest.fixture(
    scope="module",
    params=[
        *((c, ts, "deflate") for c in AUTHENTICATED_CIPHERS for ts in (True, False)),
        *((c, False, "zstd-dict") for c in ("aes-siv", "hmac")),
    ],
    ids=lambda p: f"{p[0]}-{'timestamp' if p[1] else 'no-timestamp'}-{p[2]}",
)
def sealed(request: pytest.FixtureRequest) -> Sealed:
    cipher, timestamp, compressor = request.param
    codec = make_codec(Combo("msgpack", compressor, cipher), keys=RING, timestamp=timestamp)
    token = codec.encode(PAYLOAD, now=ISSUED_AT)
    raw = b64decode(token)
    assert TokenHeader.parse(token).compressor_id == COMPRESSOR_IDS[compressor]
    assert codec.decode(token) == PAYLOAD
    return Sealed(codec, CIPHER_IDS[cipher], raw, 7 if timestamp else 3)


def _expect(exc_type: type[InvalidToken], decode: Callable[[str], object], token: str) -> None:
    """``decode(token)`` raises exactly ``exc_type``: no other subclass, no other exception."""
    with pytest.raises(InvalidToken) as caught:
        decode(token)
    assert caught.type is exc_type, f"{token}: {caught.type.__name__}: {caught.value}"


def _expected_for_first_byte(value: int) -> type[InvalidToken]:
    if value >> 4 != 1:
        return UnsupportedToken
    if value & 0x08:
        return MalformedToken
    return BadSignature  # compressor id or timestamp flag: the header is authenticated


def _expected_for_ids_byte(value: int) -> type[InvalidToken]:
    # The cipher id is the one thing read before authentication.
    if cipher_by_id(value & 0x0F) is None:
        return UnsupportedToken
    # Another cipher fails to open the body; plain is refused as unauthenticated;
    # another serializer id changes the authenticated header.
    return BadSignature


def _expected_for_key_byte(value: int) -> type[InvalidToken]:
    return BadSignature if value in RING else UnknownKey


def _expected_at(raw: bytes, index: int, value: int) -> type[InvalidToken]:
    if index == 0:
        return _expected_for_first_byte(value)
    if index == 1:
        return _expected_for_ids_byte(value)
    if index == 2:
        return _expected_for_key_byte(value)
    return BadSignature  # issued-at or body


def test_every_bit_flip_is_detected(sealed: Sealed) -> None:
    raw = sealed.raw
    for index in range(len(raw)):
        for bit in range(8):
            value = raw[index] ^ (1 << bit)
            altered = raw[:index] + bytes([value]) + raw[index + 1 :]
            expected = _expected_at(raw, index, value)
            _expect(expected, sealed.codec.decode, b64encode(altered))


def test_every_byte_pattern_is_detected(sealed: Sealed) -> None:
    raw = sealed.raw
    for index in range(len(raw)):
        for pattern in (0xFF, 0x80, 0x55):
            value = raw[index] ^ pattern
            altered = raw[:index] + bytes([value]) + raw[index + 1 :]
            _expect(_expected_at(raw, index, value), sealed.codec.decode, b64encode(altered))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_value_of_each_header_byte(sealed: Sealed, index: int) -> None:
    raw = sealed.raw
    for value in range(256):
        if value == raw[index]:
            continue
        altered = raw[:index] + bytes([value]) + raw[index + 1 :]
        _expect(_expected_at(raw, index, value), sealed.codec.decode, b64encode(altered))


def test_header_checks_name_the_reason(sealed: Sealed) -> None:
    raw = sealed.raw
    decode = sealed.codec.decode
    # Version nibble other than 1.
    for version in (0, 2, 15):
        altered = bytes([(version << 4) | (raw[0] & 0x0F)]) + raw[1:]
        with pytest.raises(UnsupportedToken, match="version"):
            decode(b64encode(altered))
    # Reserved flag.
    with pytest.raises(MalformedToken, match="reserved"):
        decode(b64encode(bytes([raw[0] | 0x08]) + raw[1:]))
    # Unknown key id.
    with pytest.raises(UnknownKey, match="key id 9"):
        decode(b64encode(raw[:2] + bytes([9]) + raw[3:]))
    # Another key of the ring.
    with pytest.raises(BadSignature):
        decode(b64encode(raw[:2] + bytes([4]) + raw[3:]))
    # Unknown cipher id.
    with pytest.raises(UnsupportedToken, match="cipher id 12"):
        decode(b64encode(raw[:1] + bytes([(raw[1] & 0xF0) | 12]) + raw[2:]))
    # Cipher id changed to plain: refused, never read as a plain token.
    with pytest.raises(BadSignature, match="unauthenticated"):
        decode(b64encode(raw[:1] + bytes([raw[1] & 0xF0]) + raw[2:]))


def test_timestamp_tampering(sealed: Sealed) -> None:
    raw = sealed.raw
    decode = sealed.codec.decode
    if sealed.header_size == 7:
        # Drop the timestamp flag, or the timestamp, or change it by one second.
        with pytest.raises(BadSignature):
            decode(b64encode(bytes([raw[0] & ~0x04]) + raw[1:]))
        with pytest.raises(BadSignature):
            decode(b64encode(bytes([raw[0] & ~0x04]) + raw[1:3] + raw[7:]))
        later = (ISSUED_AT + 1).to_bytes(4, "big")
        with pytest.raises(BadSignature):
            decode(b64encode(raw[:3] + later + raw[7:]))
        # An altered timestamp is not reported as expired: authentication comes first.
        with pytest.raises(BadSignature):
            decode(b64encode(raw[:3] + bytes(4) + raw[7:]), max_age=60, now=ISSUED_AT)
    else:
        # Add a timestamp flag, with or without inserting a timestamp.
        with pytest.raises(BadSignature):
            decode(b64encode(bytes([raw[0] | 0x04]) + raw[1:]))
        stamp = ISSUED_AT.to_bytes(4, "big")
        with pytest.raises(BadSignature):
            decode(b64encode(bytes([raw[0] | 0x04]) + raw[1:3] + stamp + raw[3:]))


def test_truncation_at_every_length(sealed: Sealed) -> None:
    raw = sealed.raw
    for length in range(len(raw)):
        expected = MalformedToken if length < sealed.header_size else BadSignature
        _expect(expected, sealed.codec.decode, b64encode(raw[:length]))


def _canonical(text: str) -> bool:
    """Whether ``text`` is the exact unpadded base64url encoding of some bytes."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") == text


def test_text_truncation_at_every_length(sealed: Sealed) -> None:
    token = b64encode(sealed.raw)
    for length in range(len(token)):
        prefix = token[:length]
        if length % 4 == 1 or length == 0 or not _canonical(prefix):
            # Not base64url, or leftover bits set in the last character.
            expected: type[InvalidToken] = MalformedToken
        else:
            raw_length = length * 3 // 4
            expected = MalformedToken if raw_length < sealed.header_size else BadSignature
        _expect(expected, sealed.codec.decode, prefix)


@pytest.mark.parametrize(
    "suffix", [b"\x00", b"\x01\x02", b"\xff" * 3, bytes(16), bytes(range(32)), bytes(100)]
)
def test_appended_bytes_are_detected(sealed: Sealed, suffix: bytes) -> None:
    _expect(BadSignature, sealed.codec.decode, b64encode(sealed.raw + suffix))


def test_bytes_moved_between_header_and_body_are_detected(sealed: Sealed) -> None:
    raw = sealed.raw
    size = sealed.header_size
    _expect(BadSignature, sealed.codec.decode, b64encode(raw[:size] + raw[size + 1 :]))
    _expect(BadSignature, sealed.codec.decode, b64encode(raw[:size] + raw[size:][::-1]))
    swapped = raw[:size] + raw[-16:] + raw[size:-16]
    _expect(BadSignature, sealed.codec.decode, b64encode(swapped))


def test_every_character_substitution(sealed: Sealed) -> None:
    """Changing any one character of the text raises, including the unused low
    bits of the last character (a token has exactly one spelling)."""
    token = b64encode(sealed.raw)
    for index in range(len(token)):
        for char in "AgQw-_9zBCDE":
            if char != token[index]:
                altered = token[:index] + char + token[index + 1 :]
                with pytest.raises(InvalidToken):
                    sealed.codec.decode(altered)


def test_non_canonical_last_character_is_refused(sealed: Sealed) -> None:
    token = b64encode(sealed.raw)
    if len(token) % 4 == 0:
        token = b64encode(sealed.raw + b"\x00")  # BadSignature, but canonical
    alphabet = B64URL_ALPHABET
    last = alphabet.index(token[-1])
    unused = 0x0F if len(token) % 4 == 2 else 0x03
    for bits in range(1, unused + 1):
        altered = token[:-1] + alphabet[last ^ bits]
        _expect(MalformedToken, sealed.codec.decode, altered)


def test_token_sealed_with_another_ring_is_refused(sealed: Sealed) -> None:
    other = KeyRing({5: fixed_secret(55), 4: fixed_secret(44)}, primary=5)
    combo = Combo("msgpack", "deflate", sealed.codec.cipher.name)
    forger = make_codec(combo, keys=other, timestamp=sealed.header_size == 7)
    _expect(BadSignature, sealed.codec.decode, forger.encode(PAYLOAD, now=ISSUED_AT))
