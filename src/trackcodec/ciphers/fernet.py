"""Fernet (``trackcodec[crypto]``): standard Fernet tokens, inside the envelope or alone.

The functions `fernet_encrypt` and `fernet_decrypt` implement the Fernet
specification (AES-128-CBC + HMAC-SHA256, version byte 0x80) and are checked
against the specification's test vectors; trackcodec uses them to read
pytracking's Fernet tokens and, through `FernetCipher`, inside its envelope.
"""

from __future__ import annotations

import hmac
import os
import struct
import time
from typing import Any

from trackcodec._deps import require
from trackcodec.errors import BadSignature, MalformedToken, TokenExpired
from trackcodec.keys import derive_subkey
from trackcodec.wire import b64url_decode

__all__ = ["FernetCipher", "fernet_decrypt", "fernet_encrypt"]

_VERSION = 0x80
_BLOCK = 16
_MIN_SIZE = 1 + 8 + 16 + 16 + 32  # version, time, IV, one block, HMAC


def _primitives() -> Any:
    return require(
        "cryptography.hazmat.primitives.ciphers",
        package="cryptography",
        extra="crypto",
        feature="Fernet",
    )


def _split_key(key: bytes) -> tuple[bytes, bytes]:
    if len(key) != 32:
        raise ValueError("a Fernet key is 32 bytes (44 characters of urlsafe base64)")
    return key[:16], key[16:]


def _aes_cbc(key: bytes, iv: bytes) -> Any:
    _primitives()
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(iv))


def fernet_encrypt(
    key: bytes, data: bytes, *, now: int | None = None, iv: bytes | None = None
) -> bytes:
    """Encrypt ``data`` into a raw (not base64) Fernet token.

    Args:
        key: The 32-byte Fernet key (signing key, then encryption key), decoded.
        data: Plaintext.
        now: The token's timestamp, Unix seconds; the clock when omitted.
        iv: The 16-byte IV; random when omitted (only test vectors fix it).

    Returns:
        ``0x80 ‖ timestamp ‖ IV ‖ ciphertext ‖ HMAC``.
    """
    signing_key, encryption_key = _split_key(key)
    iv = os.urandom(_BLOCK) if iv is None else iv
    pad = _BLOCK - len(data) % _BLOCK
    encryptor = _aes_cbc(encryption_key, iv).encryptor()
    ciphertext: bytes = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
    stamp = int(time.time()) if now is None else now
    signed = struct.pack(">BQ", _VERSION, stamp) + iv + ciphertext
    return signed + hmac.digest(signing_key, signed, "sha256")


def fernet_decrypt(
    key: bytes, token: bytes, *, ttl: int | None = None, now: int | None = None
) -> bytes:
    """Authenticate and decrypt a raw (not base64) Fernet token.

    Args:
        key: The 32-byte Fernet key, decoded.
        token: The raw token.
        ttl: Maximum age in seconds, or ``None`` for no limit.
        now: The current time for ``ttl`` (Unix seconds); the clock when omitted.

    Raises:
        MalformedToken: Not a version 0x80 token of a possible length.
        BadSignature: The HMAC does not match, or the padding is wrong.
        TokenExpired: Older than ``ttl``, or too far in the future.
    """
    signing_key, encryption_key = _split_key(key)
    if len(token) < _MIN_SIZE or token[0] != _VERSION or (len(token) - 57) % _BLOCK:
        raise MalformedToken("not a Fernet token")
    signed, tag = token[:-32], token[-32:]
    if not hmac.compare_digest(hmac.digest(signing_key, signed, "sha256"), tag):
        raise BadSignature("Fernet token failed authentication")
    (stamp,) = struct.unpack(">Q", token[1:9])
    if ttl is not None:
        current = int(time.time()) if now is None else now
        if stamp + ttl < current:
            raise TokenExpired("Fernet token expired", issued_at=stamp)
        if current + 60 < stamp:  # the specification's allowed clock skew
            raise TokenExpired("Fernet token is from the future", issued_at=stamp)
    decryptor = _aes_cbc(encryption_key, token[9:25]).decryptor()
    padded: bytes = decryptor.update(token[25:-32]) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise BadSignature("Fernet token has invalid padding")
    return padded[:-pad]


def decode_fernet_text(text: str | bytes) -> bytes:
    """Decode a Fernet token's urlsafe base64 text form (padded or not) to raw bytes.

    Raises:
        MalformedToken: The text is not urlsafe base64.
    """
    try:
        return b64url_decode(text)
    except ValueError as exc:
        raise MalformedToken("Fernet token is not urlsafe base64") from exc


class FernetCipher:
    """Fernet inside the trackcodec envelope, for deployments that standardise on it.

    The body is a standard Fernet token (raw bytes, not base64) whose
    plaintext is the envelope header followed by the payload, so the header is
    authenticated too. Fernet carries its own IV and timestamp and pads to
    16 bytes: it makes the longest tokens of all authenticated ciphers.

    Args:
        secret: A key ring secret; the 32-byte Fernet key is derived from it.

    Raises:
        MissingDependencyError: ``cryptography`` is not installed.
    """

    id = 5
    layout = (
        ("Fernet version byte", 1),
        ("Fernet timestamp", 8),
        ("Fernet IV", 16),
        ("AES-CBC ciphertext of header copy + payload + padding", None),
        ("HMAC-SHA256", 32),
    )
    name = "fernet"
    overhead = 1 + 8 + 16 + 32 + 8  # plus the header inside, plus padding: about 8 on average
    authenticated = True
    encrypted = True

    def __init__(self, secret: bytes) -> None:
        _primitives()
        self._key = derive_subkey(secret, self.name, 32)

    def seal(self, plaintext: bytes, /, *, header: bytes) -> bytes:
        """Encrypt ``header ‖ plaintext`` into a raw Fernet token."""
        return fernet_encrypt(self._key, header + plaintext)

    def open(self, sealed: bytes, /, *, header: bytes) -> bytes:
        """Decrypt, check that the sealed header matches, and return the payload."""
        try:
            inner = fernet_decrypt(self._key, sealed)
        except (MalformedToken, BadSignature) as exc:
            raise BadSignature("token failed authentication") from exc
        if not hmac.compare_digest(inner[: len(header)], header):
            raise BadSignature("token header does not match its sealed copy")
        return inner[len(header) :]

    def __repr__(self) -> str:
        return "FernetCipher(<secret>)"
