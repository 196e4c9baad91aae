"""The Fernet functions against the specification's test vectors and ``cryptography``."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import cryptography_vectors
import pytest
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken as CryptographyInvalidToken

from trackcodec import BadSignature, InvalidToken, MalformedToken, TokenExpired
from trackcodec.ciphers.fernet import decode_fernet_text, fernet_decrypt, fernet_encrypt


def _vectors(name: str) -> list[dict[str, Any]]:
    with cryptography_vectors.open_vector_file(f"fernet/{name}.json", "r") as f:
        vectors: list[dict[str, Any]] = json.load(f)
    assert vectors, name
    return vectors


def _key(vector: dict[str, Any]) -> bytes:
    return base64.urlsafe_b64decode(vector["secret"])


def _now(vector: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(vector["now"]).timestamp())


def _decrypt_text(vector: dict[str, Any]) -> bytes:
    """Decrypt the vector's token from its text form, as a tracking endpoint would."""
    raw = decode_fernet_text(vector["token"])
    return fernet_decrypt(_key(vector), raw, ttl=vector["ttl_sec"], now=_now(vector))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize("vector", _vectors("generate"), ids=lambda v: v["src"])
def test_generate(vector: dict[str, Any]) -> None:
    raw = fernet_encrypt(
        _key(vector), vector["src"].encode(), now=_now(vector), iv=bytes(vector["iv"])
    )
    assert _b64(raw) == vector["token"]


@pytest.mark.parametrize("vector", _vectors("verify"), ids=lambda v: v["src"])
def test_verify(vector: dict[str, Any]) -> None:
    assert _decrypt_text(vector) == vector["src"].encode()


@pytest.mark.parametrize("vector", _vectors("invalid"), ids=lambda v: v["desc"])
def test_invalid(vector: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        _decrypt_text(vector)


# The reasons, where the specification's descriptions pin them down.
REASONS = {
    "incorrect mac": BadSignature,
    "too short": MalformedToken,
    "payload size not multiple of block size": MalformedToken,
    "payload padding error": BadSignature,
    "far-future TS (unacceptable clock skew)": TokenExpired,
    "expired TTL": TokenExpired,
    "incorrect IV (causes padding error)": BadSignature,
}


@pytest.mark.parametrize(
    "vector", [v for v in _vectors("invalid") if v["desc"] in REASONS], ids=lambda v: v["desc"]
)
def test_invalid_reason(vector: dict[str, Any]) -> None:
    raw = decode_fernet_text(vector["token"])
    with pytest.raises(REASONS[vector["desc"]]):
        fernet_decrypt(_key(vector), raw, ttl=vector["ttl_sec"], now=_now(vector))


def test_expired_token_reports_its_issue_time() -> None:
    vector = next(v for v in _vectors("invalid") if v["desc"] == "expired TTL")
    raw = decode_fernet_text(vector["token"])
    with pytest.raises(TokenExpired) as caught:
        fernet_decrypt(_key(vector), raw, ttl=vector["ttl_sec"], now=_now(vector))
    assert caught.value.issued_at == int.from_bytes(raw[1:9], "big")


def test_without_ttl_an_old_token_still_decrypts() -> None:
    vector = _vectors("verify")[0]
    raw = decode_fernet_text(vector["token"])
    assert fernet_decrypt(_key(vector), raw) == vector["src"].encode()


@pytest.mark.parametrize(
    "text", ["", "=", "gA", "%%%%", "gAAAAA", "not base64 at all!", "gAAAAAAdwJ6w" * 3]
)
def test_garbage_raises_invalid_token(text: str) -> None:
    key = Fernet.generate_key()
    with pytest.raises(InvalidToken):
        fernet_decrypt(base64.urlsafe_b64decode(key), decode_fernet_text(text))


def test_decode_fernet_text_accepts_padded_unpadded_and_bytes() -> None:
    token = _vectors("verify")[0]["token"]
    raw = base64.urlsafe_b64decode(token)
    assert decode_fernet_text(token) == raw
    assert decode_fernet_text(token.rstrip("=")) == raw
    assert decode_fernet_text(token.encode()) == raw


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        fernet_encrypt(bytes(16), b"x")
    with pytest.raises(ValueError, match="32 bytes"):
        fernet_decrypt(bytes(31), bytes(73))


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 100])
def test_cryptography_reads_our_tokens(size: int) -> None:
    key = Fernet.generate_key()
    data = bytes(range(256))[:size]
    raw = fernet_encrypt(base64.urlsafe_b64decode(key), data, now=1_789_459_200)
    fernet = Fernet(key)
    assert fernet.decrypt(_b64(raw)) == data
    assert fernet.extract_timestamp(_b64(raw)) == 1_789_459_200
    assert fernet.decrypt_at_time(_b64(raw), ttl=60, current_time=1_789_459_230) == data
    with pytest.raises(CryptographyInvalidToken):
        fernet.decrypt_at_time(_b64(raw), ttl=60, current_time=1_789_459_261)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 100])
def test_we_read_cryptography_tokens(size: int) -> None:
    key = Fernet.generate_key()
    data = bytes(range(256))[:size]
    token = Fernet(key).encrypt_at_time(data, current_time=1_789_459_200)
    raw = decode_fernet_text(token)
    secret = base64.urlsafe_b64decode(key)
    assert fernet_decrypt(secret, raw) == data
    assert fernet_decrypt(secret, raw, ttl=60, now=1_789_459_260) == data
    with pytest.raises(TokenExpired):
        fernet_decrypt(secret, raw, ttl=60, now=1_789_459_261)
    with pytest.raises(BadSignature):
        fernet_decrypt(base64.urlsafe_b64decode(Fernet.generate_key()), raw)
