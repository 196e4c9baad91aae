"""KeyRing, its text form, HKDF subkeys, and key rotation at the codec level."""

from __future__ import annotations

import base64

import pytest

from support import AUTHENTICATED_CIPHERS, CIPHERS, Combo, fixed_secret, make_codec
from trackcodec import BadSignature, Codec, ConfigurationError, KeyRing, UnknownKey
from trackcodec.ciphers import (
    AESSIVCipher,
    FernetCipher,
    HMACCipher,
    SecretBoxCipher,
    XChaCha20Cipher,
)
from trackcodec.keys import derive_subkey, hkdf_sha256

S0, S1, S2 = fixed_secret(0), fixed_secret(1), fixed_secret(2)
PAYLOAD = {"metadata": {"customer_id": 123456, "campaign": "fall-2026"}}


def _secret_spellings(secret: bytes) -> list[str]:
    """The ways a secret could leak into text."""
    return [
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode().rstrip("="),
        secret.hex(),
        repr(secret),
    ]


# -- construction -------------------------------------------------------------------


def test_generate() -> None:
    ring = KeyRing.generate()
    assert ring.key_ids == (0,)
    assert ring.primary_id == 0
    assert len(ring.secret(0)) == 32
    assert KeyRing.generate().secret(0) != ring.secret(0)
    other = KeyRing.generate(key_id=42)
    assert other.key_ids == (42,)
    assert other.primary_id == 42


def test_mapping_and_pairs_and_primary() -> None:
    ring = KeyRing([(3, S0), (9, S1)])
    assert ring.key_ids == (3, 9)
    assert ring.primary_id == 3
    assert ring == KeyRing({3: S0, 9: S1})
    assert KeyRing({3: S0, 9: S1}, primary=9).primary_id == 9
    assert len(ring) == 2
    assert list(ring) == [3, 9]
    assert 9 in ring
    assert 4 not in ring
    assert "3" not in ring
    assert ring.secret(9) == S1
    with pytest.raises(KeyError):
        ring.secret(4)


def test_equality_and_hash() -> None:
    a = KeyRing({0: S0, 1: S1})
    assert a == KeyRing({0: S0, 1: S1})
    assert hash(a) == hash(KeyRing({0: S0, 1: S1}))
    assert a != KeyRing({0: S0, 1: S1}, primary=1)
    assert a != KeyRing({0: S0, 1: S2})
    assert a != "not a ring"
    assert len({a, KeyRing({0: S0, 1: S1})}) == 1


@pytest.mark.parametrize(
    ("keys", "primary", "message"),
    [
        ({}, None, "at least one key"),
        ([], None, "at least one key"),
        ({256: S0}, None, "0-255"),
        ({-1: S0}, None, "0-255"),
        ({True: S0}, None, "0-255"),
        ({"1": S0}, None, "0-255"),
        ({0: b"short"}, None, "at least 16 bytes"),
        ({0: "a text secret, not bytes"}, None, "at least 16 bytes"),
        ([(0, S0), (0, S1)], None, "appears twice"),
        ({0: S0}, 1, "not in the ring"),
    ],
)
def test_invalid_rings(keys: object, primary: int | None, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        KeyRing(keys, primary=primary)  # type: ignore[arg-type]
    assert caught.value.field == "keys"


# -- text form ----------------------------------------------------------------------


def test_text_form_round_trip() -> None:
    ring = KeyRing({5: S0, 0: S1, 255: S2}, primary=0)
    text = ring.to_string()
    assert text.startswith("tck1:")
    assert text.split(":", 1)[1].split(",")[0].startswith("0.")  # primary first
    again = KeyRing.from_string(text)
    assert again == ring
    assert again.primary_id == 0
    assert {k: again.secret(k) for k in again} == {5: S0, 0: S1, 255: S2}
    # Surrounding whitespace, as in an environment variable or a config file.
    assert KeyRing.from_string(f"  {text}\n") == ring


def test_text_form_accepts_padded_secrets() -> None:
    padded = base64.urlsafe_b64encode(S0).decode()
    assert padded.endswith("=")
    assert KeyRing.from_string(f"tck1:4.{padded}") == KeyRing({4: S0})


def test_text_form_of_generated_ring_round_trips() -> None:
    ring = KeyRing.generate()
    assert KeyRing.from_string(ring.to_string()) == ring


def test_only_to_string_shows_the_secrets() -> None:
    # A ring logged by mistake (f"{ring}", %s, repr) must not leak its secrets;
    # to_string() is the one explicit way to get the text form.
    ring = KeyRing({0: S0, 7: S1}, primary=7)
    assert _secret_spellings(S0)[0] in ring.to_string()
    assert str(ring) == repr(ring)
    for text in (str(ring), f"{ring}", repr(ring), repr(Codec(keys=ring, cipher=HMACCipher))):
        assert "0" in text
        assert "7" in text
        for secret in (S0, S1):
            for spelling in _secret_spellings(secret):
                assert spelling not in text, text


@pytest.mark.parametrize(
    "cipher", [AESSIVCipher, XChaCha20Cipher, SecretBoxCipher, FernetCipher, HMACCipher]
)
def test_cipher_reprs_hide_the_secret(cipher: type) -> None:
    text = repr(cipher(S0))
    for spelling in _secret_spellings(S0) + _secret_spellings(derive_subkey(S0, cipher.name)):
        assert spelling not in text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tck2:0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:",
        "tck1:0",
        "tck1:0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:x.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:256.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:²2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:0.AAAA",
        "tck1:0.A",
        "tck1:0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,",
        "tck1:0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tck1:0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_from_string_errors(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.from_string(text)
    assert caught.value.field == "keys"


# -- rotation -----------------------------------------------------------------------


def test_rotate_adds_a_new_primary_and_keeps_old_keys() -> None:
    ring = KeyRing({0: S0})
    rotated = ring.rotate()
    assert rotated.primary_id == 1
    assert rotated.secret(0) == S0
    assert len(rotated.secret(1)) == 32
    assert ring.key_ids == (0,)  # immutable: the old ring is unchanged
    explicit = rotated.rotate(S2, key_id=200)
    assert explicit.primary_id == 200
    assert explicit.secret(200) == S2
    assert set(explicit) == {0, 1, 200}
    # The next free id after the primary, wrapping after 255.
    assert KeyRing({255: S0}).rotate().primary_id == 0
    assert KeyRing({254: S0, 255: S1}, primary=254).rotate().primary_id == 0


def test_rotate_errors() -> None:
    ring = KeyRing({0: S0, 1: S1})
    with pytest.raises(ConfigurationError, match="already in the ring"):
        ring.rotate(key_id=1)
    full = KeyRing(dict.fromkeys(range(256), S0))
    with pytest.raises(ConfigurationError, match="all 256"):
        full.rotate()


def test_without() -> None:
    ring = KeyRing({0: S0}).rotate(S1, key_id=1)
    smaller = ring.without(0)
    assert smaller.key_ids == (1,)
    assert smaller.primary_id == 1
    with pytest.raises(ConfigurationError, match="primary"):
        ring.without(1)


# -- HKDF ---------------------------------------------------------------------------

# RFC 5869, appendix A, test cases 1-3 (SHA-256).
RFC5869 = [
    (
        bytes([0x0B]) * 22,
        bytes(range(0x0D)),
        bytes(range(0xF0, 0xFA)),
        42,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (
        bytes(range(0x50)),
        bytes(range(0x60, 0xB0)),
        bytes(range(0xB0, 0x100)),
        82,
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (
        bytes([0x0B]) * 22,
        b"",
        b"",
        42,
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "okm"), RFC5869, ids=["1", "2", "3"])
def test_hkdf_rfc5869(ikm: bytes, salt: bytes, info: bytes, length: int, okm: str) -> None:
    assert hkdf_sha256(ikm, info=info, length=length, salt=salt).hex() == okm


def test_hkdf_matches_cryptography() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    for length in (1, 31, 32, 33, 64, 100, 8160):
        expected = HKDF(hashes.SHA256(), length, None, b"ctx").derive(S0)
        assert hkdf_sha256(S0, info=b"ctx", length=length) == expected


@pytest.mark.parametrize("length", [0, -1, 8161])
def test_hkdf_length_limits(length: int) -> None:
    with pytest.raises(ValueError, match="8160"):
        hkdf_sha256(S0, info=b"", length=length)


def test_subkeys_differ_per_purpose_and_key() -> None:
    ring = KeyRing({0: S0, 1: S1})
    keys = {ring.subkey(k, name) for k in (0, 1) for name in CIPHERS}
    assert len(keys) == 2 * len(CIPHERS)
    assert ring.subkey(0, "hmac") == derive_subkey(S0, "hmac")
    assert ring.subkey(0, "aes-siv", 64) == derive_subkey(S0, "aes-siv", 64)
    assert len(ring.subkey(0, "aes-siv", 64)) == 64
    assert ring.subkey(0, "hmac") not in (S0, S1)
    with pytest.raises(KeyError):
        ring.subkey(9, "hmac")


# -- rotation at the codec level ------------------------------------------------------


@pytest.mark.parametrize("cipher", AUTHENTICATED_CIPHERS)
def test_rotation_keeps_old_tokens_until_the_old_key_is_dropped(cipher: str) -> None:
    combo = Combo("msgpack", "deflate", cipher)
    old_ring = KeyRing({0: S0})
    old_token = make_codec(combo, keys=old_ring).encode(PAYLOAD)

    new_ring = old_ring.rotate(S1)
    rotated = make_codec(combo, keys=new_ring)
    assert rotated.decode(old_token) == PAYLOAD
    new_token = rotated.encode(PAYLOAD)
    assert rotated.decode_token(new_token).key_id == 1
    assert rotated.decode_token(old_token).key_id == 0
    # A codec that has not rotated yet cannot read tokens of the new key.
    with pytest.raises(UnknownKey):
        make_codec(combo, keys=old_ring).decode(new_token)

    retired = make_codec(combo, keys=new_ring.without(0))
    assert retired.decode(new_token) == PAYLOAD
    with pytest.raises(UnknownKey, match="key id 0"):
        retired.decode(old_token)


@pytest.mark.parametrize("cipher", AUTHENTICATED_CIPHERS)
def test_same_key_id_with_another_secret_fails_authentication(cipher: str) -> None:
    combo = Combo("json", "none", cipher)
    token = make_codec(combo, keys=KeyRing({0: S0})).encode(PAYLOAD)
    with pytest.raises(BadSignature):
        make_codec(combo, keys=KeyRing({0: S1})).decode(token)


def test_codec_accepts_the_text_form() -> None:
    ring = KeyRing({3: S0})
    codec = Codec(keys=ring.to_string(), cipher=HMACCipher)
    assert codec.keys == ring
    assert Codec(keys=ring, cipher=HMACCipher).decode(codec.encode(PAYLOAD)) == PAYLOAD
    with pytest.raises(ConfigurationError):
        Codec(keys="not a key ring", cipher=HMACCipher)
